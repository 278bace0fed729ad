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
 * | `modes`      | vector of u32: permission bits (`0o777` at most) of each entry's file; absent from older senders |
 *
 * Bulk `i` of `send` holds bytes `[files[i].offset, files[i].offset + send[i].size)` of the file
 * `files[i].path`, so a large file travels as several pieces in several messages.
 *
 * `modes` comes last so that a receiver that does not know it ignores it (cereal ignores bytes
 * after the declared fields); a receiver that knows it reads it only when bytes are left.
 */
import type { Archive } from '@lightbeam/core';
import { LbmMeta } from '@lightbeam/core';

/** Permission bits a received file gets when its sender did not send them (older senders). */
export const DEFAULT_FILE_MODE = 0o644;

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
  /** Permission bits of the file of each entry of {@link FileBatchMeta.files}; empty when the sender did not say. */
  modes: number[] = [];

  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.transferId = ar.string(this.transferId);
    this.fileCount = ar.u32(this.fileCount);
    this.totalBytes = ar.usize(this.totalBytes);
    this.final = ar.bool(this.final);
    this.files = ar.vector(this.files, (a, e) => a.object(e, () => new FileEntry()));
    if (!ar.reading || ar.remaining() > 0) this.modes = ar.vector(this.modes, (a, m) => a.u32(m));
    else this.modes = [];
  }
}
