/**
 * The receiving side of `lightbeam recv`: validates each message's metadata before allocating
 * anything, receives the pieces, writes each file through a temporary name, verifies its
 * SHA-256, and only then gives it its real name. A refused file or message is reported and
 * skipped; the receiver stays up for the next message.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Bulk, Server } from '@lightbeam/core';
import { isXfer, strerror } from '@lightbeam/core';
import { toHex } from './file-hash.js';
import type { FileBatchMeta, FileEntry } from './file-meta.js';
import { SHA256_BYTES } from './file-meta.js';
import { UnsafePathError, prepareTarget } from './safe-path.js';

/** Default bound of the data one message may carry before it is refused unread. */
export const DEFAULT_RECV_MESSAGE_BYTES = 256 * 1024 * 1024;

/** A file received and verified. */
export interface ReceivedFile {
  /** Relative path, as sent. */
  path: string;
  /** Bytes. */
  size: number;
  /** SHA-256, hex. */
  sha256: string;
}

/** A file (or message) refused or failed, with the reason. */
export interface RefusedFile {
  /** Relative path as sent (JSON-quoted when it is not printable), or `(message)`. */
  path: string;
  /** Why. */
  reason: string;
}

/** One finished transfer (one `lightbeam send` run). */
export interface TransferReport {
  /** The sender's transfer id. */
  transferId: string;
  /** Files the sender announced. */
  announced: number;
  /** Files written and verified. */
  received: ReceivedFile[];
  /** Files refused or failed. */
  refused: RefusedFile[];
  /** Bytes written. */
  bytes: number;
}

/** Callbacks of a {@link FileReceiver}. */
export interface ReceiverEvents {
  /** A file was written and verified. */
  onFile(file: ReceivedFile): void;
  /** A file or message was refused or failed. */
  onRefused(file: RefusedFile): void;
  /** Data arrived: bytes received so far in this transfer, and the announced total. */
  onBytes(transferId: string, bytes: number, total: number): void;
}

interface OpenFile {
  entry: FileEntry;
  target: string;
  temp: string;
  handle: FileHandle;
  hash: Hash;
  written: number;
}

interface Transfer {
  id: string;
  announced: number;
  total: number;
  bytes: number;
  open: Map<string, OpenFile>;
  /** Paths refused in this transfer: their later pieces are discarded without another report. */
  refusedPaths: Set<string>;
  report: TransferReport;
}

/** Where a piece of a message goes. */
type Slot = { kind: 'file'; file: OpenFile } | { kind: 'discard' };

/** Receives file-transfer messages from a server into one output folder. */
export class FileReceiver {
  private readonly transfers = new Map<string, Transfer>();

  /**
   * @param server - where messages come from
   * @param root - output folder, already created and resolved with `realpath`
   * @param events - reports
   * @param maxMessageBytes - larger messages are refused without reading their data
   */
  constructor(
    private readonly server: Server,
    private readonly root: string,
    private readonly events: ReceiverEvents,
    private readonly maxMessageBytes = DEFAULT_RECV_MESSAGE_BYTES,
  ) {}

  /**
   * Handles one message whose metadata was just received into `meta`.
   *
   * @returns the transfer's report when this was its final message, else `null`
   */
  async handle(meta: FileBatchMeta): Promise<TransferReport | null> {
    const t = this.transfer(meta);
    const problem = checkMessage(meta, this.maxMessageBytes);
    if (problem !== null) {
      // The recv vector still holds the wire's entries, which a hostile sender may mark BULK_XFER
      // with no buffer behind them: clear it, so the server drops the data without reading it.
      meta.recv = [];
      await this.server.recvBulks(meta);
      this.refuse(t, { path: '(message)', reason: problem });
      return meta.final ? this.finish(t) : null;
    }
    const slots: Slot[] = [];
    for (let i = 0; i < meta.files.length; i++) slots.push(await this.slotFor(t, meta.files[i], meta.send[i]));
    // The receiver allocates only now, from the sizes in the metadata; refused pieces get an
    // empty XFER buffer, which takes the frame and keeps none of it.
    const bufs: Uint8Array[] = [];
    meta.recv = meta.send.map((b, i): Bulk => {
      const buf = new Uint8Array(slots[i].kind === 'file' ? b.size : 0);
      bufs.push(buf);
      return this.server.expose(buf, buf.byteLength, b.flags);
    });
    const rc = await this.server.recvBulks(meta);
    if (rc !== 0) {
      for (const s of slots) if (s.kind === 'file') await this.fail(t, s.file, `receiving the data failed: ${strerror(rc)}`);
    } else {
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i];
        if (s.kind === 'file') await this.write(t, s.file, bufs[i]);
      }
    }
    return meta.final ? this.finish(t) : null;
  }

  /** Closes and removes every partly received file (on shutdown). */
  async abandonAll(): Promise<TransferReport[]> {
    const out: TransferReport[] = [];
    for (const t of [...this.transfers.values()]) out.push(await this.finish(t));
    return out;
  }

  private transfer(meta: FileBatchMeta): Transfer {
    let t = this.transfers.get(meta.transferId);
    if (t === undefined) {
      t = {
        id: meta.transferId,
        announced: meta.fileCount,
        total: meta.totalBytes,
        bytes: 0,
        open: new Map(),
        refusedPaths: new Set(),
        report: { transferId: meta.transferId, announced: meta.fileCount, received: [], refused: [], bytes: 0 },
      };
      this.transfers.set(meta.transferId, t);
    }
    return t;
  }

  private async slotFor(t: Transfer, e: FileEntry, bulk: Bulk): Promise<Slot> {
    if (t.refusedPaths.has(e.path)) return { kind: 'discard' };
    const shown = printable(e.path);
    const refuse = (reason: string): Slot => {
      this.refuse(t, { path: shown, reason }, e.path);
      return { kind: 'discard' };
    };
    if (e.sha256.byteLength !== SHA256_BYTES) return refuse(`its SHA-256 has ${e.sha256.byteLength} bytes, not ${SHA256_BYTES}`);
    if (!isXfer(bulk.flags)) return refuse('its bulk does not carry BULK_XFER, so no data follows');
    if (e.offset + bulk.size > e.size) return refuse(`piece [${e.offset}, ${e.offset + bulk.size}) lies beyond the file size ${e.size}`);
    const open0 = t.open.get(e.path);
    if (e.offset === 0 && open0 === undefined) {
      try {
        const file = await this.openFile(e);
        t.open.set(e.path, file);
        return { kind: 'file', file };
      } catch (err) {
        return refuse(err instanceof UnsafePathError ? err.message : `cannot create it: ${(err as Error).message}`);
      }
    }
    if (open0 === undefined) return refuse(`piece at offset ${e.offset} arrived for a file that was never started`);
    if (e.offset !== open0.written) {
      await this.fail(t, open0, `piece at offset ${e.offset} arrived where ${open0.written} was expected`);
      return { kind: 'discard' };
    }
    return { kind: 'file', file: open0 };
  }

  private async openFile(e: FileEntry): Promise<OpenFile> {
    const target = await prepareTarget(this.root, e.path);
    // The temporary name is ours alone ('wx'): nothing planted in the folder can be followed.
    const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.lbpart`);
    const handle = await open(temp, 'wx', 0o644);
    const f: OpenFile = { entry: e, target, temp, handle, hash: createHash('sha256'), written: 0 };
    return f;
  }

  private async write(t: Transfer, f: OpenFile, data: Uint8Array): Promise<void> {
    const key = f.entry.path;
    try {
      let done = 0;
      while (done < data.byteLength) {
        const { bytesWritten } = await f.handle.write(data, done, data.byteLength - done, f.written + done);
        done += bytesWritten;
      }
    } catch (err) {
      await this.fail(t, f, `cannot write it: ${(err as Error).message}`);
      return;
    }
    f.hash.update(data);
    f.written += data.byteLength;
    t.bytes += data.byteLength;
    this.events.onBytes(t.id, t.bytes, t.total);
    if (f.written < f.entry.size) return;
    t.open.delete(key);
    await f.handle.close();
    const got = new Uint8Array(f.hash.digest());
    const want = f.entry.sha256;
    if (toHex(got) !== toHex(want)) {
      await unlink(f.temp).catch(() => {});
      this.refuse(t, { path: printable(key), reason: `SHA-256 mismatch: expected ${toHex(want)}, got ${toHex(got)}` }, key);
      return;
    }
    await rename(f.temp, f.target);
    const file: ReceivedFile = { path: key, size: f.entry.size, sha256: toHex(got) };
    t.report.received.push(file);
    t.report.bytes += file.size;
    this.events.onFile(file);
  }

  private async fail(t: Transfer, f: OpenFile, reason: string): Promise<void> {
    t.open.delete(f.entry.path);
    await f.handle.close().catch(() => {});
    await unlink(f.temp).catch(() => {});
    this.refuse(t, { path: printable(f.entry.path), reason }, f.entry.path);
  }

  private refuse(t: Transfer, r: RefusedFile, key?: string): void {
    if (key !== undefined) t.refusedPaths.add(key);
    t.report.refused.push(r);
    this.events.onRefused(r);
  }

  private async finish(t: Transfer): Promise<TransferReport> {
    for (const f of [...t.open.values()]) await this.fail(t, f, `incomplete: ${f.written} of ${f.entry.size} bytes arrived`);
    this.transfers.delete(t.id);
    return t.report;
  }
}

/** Checks a message as a whole before anything is allocated; returns the problem or `null`. */
function checkMessage(meta: FileBatchMeta, maxBytes: number): string | null {
  if (meta.files.length !== meta.send.length) {
    return `refused a message with ${meta.files.length} file entries for ${meta.send.length} bulks`;
  }
  let bytes = 0;
  for (const b of meta.send) bytes += isXfer(b.flags) ? b.size : 0;
  if (bytes > maxBytes) return `refused a message of ${bytes} bytes (limit ${maxBytes}, see --max-message-bytes)`;
  return null;
}

/** The path as sent when it is safe to print as is, else JSON-quoted (NUL, control characters). */
function printable(p: string): string {
  return /^[^\x00-\x1f\x7f]*$/.test(p) && p.length > 0 ? p : JSON.stringify(p);
}
