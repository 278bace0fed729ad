/**
 * The receiving side of `lightbeam recv`: validates each message's metadata before allocating
 * anything, receives the pieces, writes each file through a temporary name, verifies its
 * SHA-256, and only then gives it its real name. A refused file or message is reported and
 * skipped; the receiver stays up for the next message.
 *
 * What a sender can make it hold is bounded (receiver-limits.ts): a file is opened only when its
 * data is in hand, so a file whose pieces all come in one message holds a handle only while it is
 * written; files left unfinished between messages, and transfers in progress, are capped (the
 * transfer silent the longest gives way) and expire when silent, and whatever a transfer leaves
 * behind (handles, `.lbpart` files) is closed and removed when it is abandoned.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Bulk, Server } from '@lightbeam/core';
import { isXfer, strerror } from '@lightbeam/core';
import { toHex } from './file-hash.js';
import type { FileBatchMeta, FileEntry } from './file-meta.js';
import { DEFAULT_FILE_MODE, SHA256_BYTES } from './file-meta.js';
import type { ReceiverLimits } from './receiver-limits.js';
import { MAX_REFUSALS_KEPT, resolveReceiverLimits } from './receiver-limits.js';
import type { OverwritePolicy } from './no-clobber.js';
import { existsReason, pathExists, placeFile } from './no-clobber.js';
import { UnsafePathError, prepareTarget } from './safe-path.js';
import type { ReceivedFile, ReceiverEvents, RefusedFile, TransferReport } from './receiver-types.js';

interface OpenFile {
  entry: FileEntry;
  target: string;
  temp: string;
  /** Opened when the first piece's data is in hand; `null` before (and after close). */
  handle: FileHandle | null;
  hash: Hash;
  written: number;
  /** Permission bits to create it with (the process umask applies, as for any new file). */
  mode: number;
}

interface Transfer {
  id: string;
  announced: number;
  total: number;
  bytes: number;
  /** `performance.now()` of its last message. */
  lastActive: number;
  /** Files started and not finished, by path. */
  open: Map<string, OpenFile>;
  /** Paths refused in this transfer: their later pieces are discarded without another report. */
  refusedPaths: Set<string>;
  report: TransferReport;
}

/** Where a piece of a message goes. */
type Slot = { kind: 'file'; file: OpenFile } | { kind: 'discard' };

/** Receives file-transfer messages from a server into one output folder. */
export class FileReceiver {
  /** Transfers in progress, least recently active first (a message moves its transfer to the end). */
  private readonly transfers = new Map<string, Transfer>();
  private readonly limits: ReceiverLimits;
  /** File handles open now, over every transfer. */
  private handles = 0;
  private readonly overwrite: boolean;
  /** The output folder once known (resolved with `realpath`). */
  private rootPath: Promise<string> | null = null;

  /**
   * @param server - where messages come from
   * @param root - output folder, already created and resolved with `realpath`; or a function that
   *   creates it and resolves that path, called when the first file is about to be written (so a
   *   receiver that gets nothing leaves nothing behind)
   * @param events - reports
   * @param limits - bounds on messages, open files, transfers and silence (see {@link ReceiverLimits})
   * @param policy - whether existing files are replaced (by default they are refused and kept)
   * @throws RangeError for a limit that is not a positive integer
   */
  constructor(
    private readonly server: Server,
    private readonly root: string | (() => Promise<string>),
    private readonly events: ReceiverEvents,
    limits: Partial<ReceiverLimits> = {},
    policy: OverwritePolicy = {},
  ) {
    this.limits = resolveReceiverLimits(limits);
    this.overwrite = policy.overwrite === true;
  }

  /** Transfers in progress. */
  get transfersInProgress(): number {
    return this.transfers.size;
  }

  /** File handles open now (files started and not finished). */
  get openFiles(): number {
    return this.handles;
  }

  /**
   * Handles one message whose metadata was just received into `meta`.
   *
   * @returns the transfer's report when this was its final message, else `null`
   */
  async handle(meta: FileBatchMeta): Promise<TransferReport | null> {
    const t = await this.transfer(meta);
    const problem = checkMessage(meta, this.limits.maxMessageBytes);
    if (problem !== null) {
      // The recv vector still holds the wire's entries, which a hostile sender may mark BULK_XFER
      // with no buffer behind them: clear it, so the server drops the data without reading it.
      meta.recv = [];
      await this.server.recvBulks(meta);
      this.refuse(t, { path: '(message)', reason: problem });
      return meta.final ? this.finish(t) : null;
    }
    const slots: Slot[] = [];
    for (let i = 0; i < meta.files.length; i++) slots.push(await this.slotFor(t, meta.files[i], meta.send[i], meta.modes[i]));
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

  /**
   * Abandons every transfer silent for longer than the idle limit: its partial files are closed
   * and removed, and `onAbandoned` reports it.
   *
   * @param now - the current `performance.now()`
   */
  async expireIdle(now = performance.now()): Promise<void> {
    for (const t of [...this.transfers.values()]) {
      // Least recently active first: the first one still fresh ends the sweep.
      if (now - t.lastActive <= this.limits.idleMs) break;
      await this.abandon(t, `no message for ${this.limits.idleMs} ms`);
    }
  }

  private async transfer(meta: FileBatchMeta): Promise<Transfer> {
    let t = this.transfers.get(meta.transferId);
    if (t !== undefined) {
      // Move it to the end: the map stays ordered from least to most recently active.
      this.transfers.delete(t.id);
      this.transfers.set(t.id, t);
      t.lastActive = performance.now();
      return t;
    }
    while (this.transfers.size >= this.limits.maxTransfers) {
      const oldest = this.transfers.values().next().value as Transfer;
      await this.abandon(oldest, `${this.limits.maxTransfers} transfers were in progress and a new one began (see --max-transfers)`);
    }
    t = {
      id: meta.transferId,
      announced: meta.fileCount,
      total: meta.totalBytes,
      bytes: 0,
      lastActive: performance.now(),
      open: new Map(),
      refusedPaths: new Set(),
      report: { transferId: meta.transferId, announced: meta.fileCount, received: [], refused: [], bytes: 0 },
    };
    this.transfers.set(meta.transferId, t);
    return t;
  }

  private async abandon(t: Transfer, why: string): Promise<void> {
    t.report.abandoned = why;
    const report = await this.finish(t);
    this.events.onAbandoned(report);
  }

  /**
   * Finds room for one more open file: abandons the transfers silent the longest (other than
   * `t`) that hold open files until one is free.
   *
   * @returns false when `t` itself holds every open file allowed
   */
  private async roomForFile(t: Transfer): Promise<boolean> {
    while (this.handles >= this.limits.maxOpenFiles) {
      let victim: Transfer | undefined;
      for (const other of this.transfers.values()) {
        if (other !== t && [...other.open.values()].some((f) => f.handle !== null)) {
          victim = other;
          break;
        }
      }
      if (victim === undefined) return false;
      await this.abandon(victim, `${this.limits.maxOpenFiles} files were being written at once and another transfer needed one (see --max-open-files)`);
    }
    return true;
  }

  private async slotFor(t: Transfer, e: FileEntry, bulk: Bulk, mode: number | undefined): Promise<Slot> {
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
        // Permission bits only: a peer never sets setuid, setgid or sticky bits here.
        const file = await this.planFile(e, mode === undefined ? DEFAULT_FILE_MODE : mode & 0o777);
        // Checked before any data is read; placeFile checks again when the name is given.
        if (!this.overwrite && (await pathExists(file.target))) return refuse(existsReason(e.path));
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

  /** Checks the name and prepares the folders; the file itself is opened by {@link FileReceiver.write}. */
  private async planFile(e: FileEntry, mode: number): Promise<OpenFile> {
    const target = await prepareTarget(await this.outputFolder(), e.path);
    const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.lbpart`);
    return { entry: e, target, temp, handle: null, hash: createHash('sha256'), written: 0, mode };
  }

  private outputFolder(): Promise<string> {
    const root = this.root;
    if (typeof root === 'string') return Promise.resolve(root);
    // A failure is not kept: the next file tries again (the folder may have been made writable).
    this.rootPath ??= root().catch((err: unknown) => {
      this.rootPath = null;
      throw err;
    });
    return this.rootPath;
  }

  private async write(t: Transfer, f: OpenFile, data: Uint8Array): Promise<void> {
    const key = f.entry.path;
    if (f.handle === null) {
      if (!(await this.roomForFile(t))) {
        await this.fail(t, f, `refused: this transfer already writes ${this.limits.maxOpenFiles} files at once (see --max-open-files)`);
        return;
      }
      try {
        // The temporary name is ours alone ('wx'): nothing planted in the folder can be followed.
        // Created with its mode: the umask applies as for any new file, and a read-only mode
        // still gives this descriptor write access (O_CREAT checks the mode on later opens only).
        f.handle = await open(f.temp, 'wx', f.mode);
        this.handles++;
      } catch (err) {
        await this.fail(t, f, `cannot create it: ${(err as Error).message}`);
        return;
      }
    }
    const handle = f.handle;
    try {
      let done = 0;
      while (done < data.byteLength) {
        const { bytesWritten } = await handle.write(data, done, data.byteLength - done, f.written + done);
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
    await this.closeHandle(f);
    const got = new Uint8Array(f.hash.digest());
    const want = f.entry.sha256;
    if (toHex(got) !== toHex(want)) {
      await unlink(f.temp).catch(() => {});
      this.refuse(t, { path: printable(key), reason: `SHA-256 mismatch: expected ${toHex(want)}, got ${toHex(got)}` }, key);
      return;
    }
    if (!(await placeFile(f.temp, f.target, this.overwrite))) {
      await unlink(f.temp).catch(() => {});
      this.refuse(t, { path: printable(key), reason: existsReason(key) }, key);
      return;
    }
    const file: ReceivedFile = { path: key, size: f.entry.size, sha256: toHex(got) };
    t.report.received.push(file);
    t.report.bytes += file.size;
    this.events.onFile(file, t.id);
  }

  private async fail(t: Transfer, f: OpenFile, reason: string): Promise<void> {
    t.open.delete(f.entry.path);
    const opened = f.handle !== null;
    await this.closeHandle(f);
    if (opened) await unlink(f.temp).catch(() => {});
    this.refuse(t, { path: printable(f.entry.path), reason }, f.entry.path);
  }

  private async closeHandle(f: OpenFile): Promise<void> {
    const h = f.handle;
    if (h === null) return;
    f.handle = null;
    this.handles--;
    await h.close().catch(() => {});
  }

  private refuse(t: Transfer, r: RefusedFile, key?: string): void {
    // Kept up to a bound: a sender must not grow the receiver's memory by being refused.
    if (t.report.refused.length < MAX_REFUSALS_KEPT) {
      if (key !== undefined) t.refusedPaths.add(key);
      t.report.refused.push(r);
    } else {
      t.report.refusedNotKept = (t.report.refusedNotKept ?? 0) + 1;
    }
    this.events.onRefused(r, t.id);
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
