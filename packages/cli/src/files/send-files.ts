/**
 * `lightbeam send`: files and folders to a `lightbeam recv`, over the ZeroMQ transport, through
 * nothing but the core API (`TransportFactory.getClient`, `expose`, `send`). Before any data
 * leaves, the receiver's reply path must answer (confirm-protocol.ts); after the last message,
 * `send` waits until the receiver confirmed every file's SHA-256, since PUSH/PULL itself says
 * nothing about delivery.
 */
import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { BULK_XFER, ETIMEDOUT, Transport, TransportFactory, expose, strerror } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { curveKeyPair } from 'zeromq';
import { CliError } from '../common/cli-error.js';
import { ConfirmClient } from './confirm-client.js';
import type { CurveClientKeys } from '../common/curve-options.js';
import { sha256File, toHex } from './file-hash.js';
import { FileBatchMeta, FileEntry } from './file-meta.js';
import type { SkippedPath, SourceFile } from './file-walk.js';
import { walkSources } from './file-walk.js';
import type { Progress } from '../common/progress.js';
import { formatBytes } from '../common/progress.js';
import { probeTcp } from '../common/reachability.js';
import { DEFAULT_MESSAGE_BYTES, DEFAULT_MESSAGE_PIECES, planMessages } from './send-plan.js';
import { DEFAULT_FILE_MODE } from './file-meta.js';

/** Options of {@link sendFiles}. */
export interface SendFilesOptions {
  /** Receiver host. */
  host: string;
  /** Receiver TCP port. */
  port: number;
  /** Files and folders to send. */
  paths: readonly string[];
  /**
   * Data bound per message.
   * @defaultValue 8 MiB
   */
  maxMessageBytes?: number;
  /**
   * How long to wait for the receiver: the reachability probe, room in the send queue, and
   * delivery of what is still queued at the end.
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /** Where progress and per-file lines go. */
  progress: Progress;
  /**
   * Wait for the receiver to confirm every file's SHA-256 over the reply path (`false`: the
   * receiver cannot confirm, e.g. a C++ receiver; then `send` only knows what it queued).
   * @defaultValue true
   */
  confirm?: boolean;
  /**
   * The receiver's reply port.
   * @defaultValue `port + 1`
   */
  replyPort?: number;
  /** CURVE: the receiver's public key, and our own pair (made up when omitted). */
  curve?: CurveClientKeys;
  /**
   * Told where the send stands whenever that changes (`hashing`, `sending`, ...), with the files
   * whose last piece is queued and the files in all; `lightbeam send` prints it when a signal
   * stops it.
   */
  onPhase?: (phase: string, filesQueued: number, files: number) => void;
}

/** What {@link sendFiles} did. */
export interface SendSummary {
  /** The id the receiver reports the transfer under. */
  transferId: string;
  /** Files sent. */
  files: number;
  /** Bytes of file data sent. */
  bytes: number;
  /** Messages sent. */
  messages: number;
  /** Paths not sent (symbolic links, special files). */
  skipped: SkippedPath[];
  /** True when the receiver confirmed every file's SHA-256. */
  confirmed: boolean;
}

// Few messages in flight: `send` then waits for the network instead of reading the whole
// folder into memory, and the progress bar follows the bytes that actually leave.
const SEND_HIGH_WATER_MARK = 2;

/**
 * Sends files and folders to a receiver.
 *
 * @param opts - receiver, paths, bounds, progress
 * @returns what was sent
 * @throws CliError when a path is missing, the receiver cannot be reached, or a send fails
 */
export async function sendFiles(opts: SendFilesOptions): Promise<SendSummary> {
  const timeoutMs = opts.timeoutMs ?? 30000;
  const { progress } = opts;
  // Where the send stands, told to `onPhase` as it moves on.
  const state = {
    phase: 'reading the files',
    queued: 0,
    total: 0,
    tell(): void {
      opts.onPhase?.(this.phase, this.queued, this.total);
    },
  };
  state.tell();
  const { files, skipped } = await walkSources(opts.paths).catch((err: Error) => {
    throw new CliError(err.message);
  });
  for (const s of skipped) progress.log(`skipped ${s.absPath}: ${s.reason}`);
  if (files.length === 0) throw new CliError('nothing to send: no regular files under the given paths');
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  state.total = files.length;
  state.phase = 'hashing';
  state.tell();

  progress.start(totalBytes, 'hashing');
  const digests: Uint8Array[] = [];
  let hashed = 0;
  for (const f of files) {
    digests.push(await sha256File(f.absPath));
    hashed += f.size;
    progress.update(hashed);
  }
  progress.stop();

  state.phase = 'reaching the receiver';
  state.tell();
  await probeTcp(opts.host, opts.port, timeoutMs);
  const transferId = randomUUID();
  const replyPort = opts.replyPort ?? opts.port + 1;
  if (opts.confirm !== false && replyPort > 65535) throw new CliError(`the reply port would be ${replyPort}: give --reply-port (or --no-confirm)`);
  let curve: Required<CurveClientKeys> | undefined;
  if (opts.curve !== undefined) {
    const own = opts.curve.publicKey !== undefined && opts.curve.secretKey !== undefined ? opts.curve : curveKeyPair();
    curve = { serverKey: opts.curve.serverKey, publicKey: own.publicKey as string, secretKey: own.secretKey as string };
  }
  const plan = planMessages(files, opts.maxMessageBytes ?? DEFAULT_MESSAGE_BYTES, DEFAULT_MESSAGE_PIECES);
  const largest = plan.reduce((max, m) => Math.max(max, m.reduce((n, p) => n + p.length, 0)), 0);
  state.phase = "waiting for the receiver's reply path";
  state.tell();
  // Asked first: no data leaves unless a receiver that will confirm it answers, and takes messages this large.
  const confirm = opts.confirm === false ? null : await ConfirmClient.watch(opts.host, replyPort, transferId, timeoutMs, curve, largest);
  const client = await TransportFactory.getClient(opts.host, Transport.kZeroMq, 'tcp', opts.port, {
    highWaterMark: SEND_HIGH_WATER_MARK,
    linger: timeoutMs,
    // Nothing is queued until the receiver completed ZeroMQ's handshake: a peer that accepts TCP
    // but never answers (stopped, not ZeroMQ, other CURVE keys) makes the first send time out with
    // a clear error, instead of `send` exiting 0 and then lingering at exit on messages queued for
    // nobody (zeromq.js's "Waiting for queued ZeroMQ messages" warning).
    immediate: true,
    curve,
  });
  const reader = new PieceReader(files);
  let sent = 0;
  try {
    progress.start(totalBytes, 'sending');
    state.phase = 'sending';
    state.tell();
    for (let m = 0; m < plan.length; m++) {
      const meta = new FileBatchMeta();
      meta.transferId = transferId;
      meta.fileCount = files.length;
      meta.totalBytes = totalBytes;
      meta.final = m === plan.length - 1;
      let bytes = 0;
      for (const piece of plan[m]) {
        const f = files[piece.file];
        const entry = new FileEntry();
        entry.path = f.relPath;
        entry.size = f.size;
        entry.sha256 = digests[piece.file];
        entry.offset = piece.offset;
        meta.files.push(entry);
        meta.modes.push(f.mode ?? DEFAULT_FILE_MODE);
        // A fresh buffer per piece: zeromq.js keeps it by reference after `send` resolves.
        const data = await reader.read(piece.file, piece.offset, piece.length);
        meta.send.push(expose(data, piece.length, BULK_XFER));
        bytes += piece.length;
      }
      const rc = await client.send(meta, { timeoutMs });
      if (rc !== 0) {
        throw new CliError(
          rc !== ETIMEDOUT
            ? `send to ${opts.host}:${opts.port} failed: ${strerror(rc)} (code ${rc})`
            : m === 0
              ? `the receiver at ${opts.host}:${opts.port} accepted the connection but did not complete ZeroMQ's handshake within ${timeoutMs} ms ` +
                '(is it a "lightbeam recv", running, with the same CURVE keys?)'
              : `the receiver at ${opts.host}:${opts.port} took nothing for ${timeoutMs} ms (message ${m + 1} of ${plan.length})`,
        );
      }
      sent += bytes;
      progress.update(sent);
      for (const piece of plan[m]) {
        const f = files[piece.file];
        if (piece.offset + piece.length !== f.size) continue;
        state.queued++;
        state.tell();
        progress.log(`sent ${f.relPath} (${formatBytes(f.size)})`);
      }
    }
    progress.stop();
    state.phase = 'waiting for the receiver to confirm';
    state.tell();
    if (confirm !== null) {
      const expected = new Map(files.map((f, i) => [f.relPath, toHex(digests[i])]));
      await confirm.confirmAll(expected, timeoutMs);
    }
  } finally {
    progress.stop();
    await reader.close();
    confirm?.close();
    // close() lets libzmq deliver what is still queued, for at most `linger` ms.
    await client.close();
  }
  return { transferId, files: files.length, bytes: sent, messages: plan.length, skipped, confirmed: confirm !== null };
}

/** Reads pieces of the planned files, keeping the current file open. */
class PieceReader {
  private index = -1;
  private handle: FileHandle | null = null;

  constructor(private readonly files: readonly SourceFile[]) {}

  async read(file: number, offset: number, length: number): Promise<Uint8Array> {
    if (file !== this.index) {
      await this.close();
      this.handle = await open(this.files[file].absPath, 'r');
      this.index = file;
    }
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await (this.handle as FileHandle).read(buf, got, length - got, offset + got);
      if (bytesRead === 0) throw new CliError(`${this.files[file].absPath} shrank while it was being sent`);
      got += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    this.index = -1;
    if (h !== null) await h.close();
  }
}
