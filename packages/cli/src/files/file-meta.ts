/**
 * The metadata of one `lightbeam send` message: which pieces of which files its bulks carry.
 *
 * Wire layout after the base vectors (cereal order, see `@lightbeam/core` `Archive`):
 *
 * | field        | encoding                                                       |
 * |--------------|----------------------------------------------------------------|
 * | `transferId` | string: identifies one `lightbeam send` run                    |
 * | `fileCount`  | u32: files in the whole transfer                               |
 * | `totalBytes` | u64: bytes in the whole transfer                               |
 * | `final`      | bool: this is the transfer's last message                      |
 * | `files`      | vector of {@link FileEntry}: one per XFER bulk of `send`, in order |
 *
 * Bulk `i` of `send` holds bytes `[files[i].offset, files[i].offset + send[i].size)` of the file
 * `files[i].path`, so a large file travels as several pieces in several messages.
 */
import type { Archive } from '@lightbeam/core';
import { LbmMeta } from '@lightbeam/core';

/** Bytes of a SHA-256 digest. */
export const SHA256_BYTES = 32;

/** One piece of a file, as declared in {@link FileBatchMeta.files}. */
export class FileEntry {
  /** Path relative to the receiver's output folder, `/`-separated. */
  path = '';
  /** Size of the whole file in bytes. */
  size = 0;
  /** SHA-256 of the whole file. */
  sha256: Uint8Array = new Uint8Array(SHA256_BYTES);
  /** Where this piece starts in the file. */
  offset = 0;

  /** Declares the struct's fields in wire order. */
  serialize(ar: Archive): void {
    this.path = ar.string(this.path);
    this.size = ar.usize(this.size);
    this.sha256 = ar.bytes(this.sha256);
    this.offset = ar.usize(this.offset);
  }
}

/** Metadata of a file-transfer message; see the file comment for the layout. */
export class FileBatchMeta extends LbmMeta {
  /** Identifies one `lightbeam send` run; every message of the run carries it. */
  transferId = '';
  /** Files in the whole transfer. */
  fileCount = 0;
  /** Bytes in the whole transfer. */
  totalBytes = 0;
  /** True on the transfer's last message. */
  final = false;
  /** One entry per bulk of `send`, in order. */
  files: FileEntry[] = [];

  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.transferId = ar.string(this.transferId);
    this.fileCount = ar.u32(this.fileCount);
    this.totalBytes = ar.usize(this.totalBytes);
    this.final = ar.bool(this.final);
    this.files = ar.vector(this.files, (a, e) => a.object(e, () => new FileEntry()));
  }
}
