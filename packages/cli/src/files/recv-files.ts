/**
 * `lightbeam recv`: binds a ZeroMQ server through the core API (`TransportFactory.getServer`,
 * `waitMetadata`, `recvBulks`) and hands each message to a {@link FileReceiver}.
 */
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Server } from '@lightbeam/core';
import { EADDRINUSE, ECANCELED, ESHUTDOWN, ETIMEDOUT, LBM_MALFORMED, LightbeamError, Transport, TransportFactory, strerror } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { CliError } from '../common/cli-error.js';
import { FileBatchMeta } from './file-meta.js';
import type { TransferReport } from './receiver-types.js';
import { ConfirmServer } from './confirm-server.js';
import type { WatchRequest } from './confirm-protocol.js';
import { TRANSFER_PATH } from './confirm-protocol.js';
import type { CurveServerKeys } from '../common/curve-options.js';
import { FileReceiver } from './file-receiver.js';
import type { ReceiverLimits } from './receiver-limits.js';
import { resolveReceiverLimits } from './receiver-limits.js';
import type { Progress } from '../common/progress.js';
import { formatBytes } from '../common/progress.js';

/**
 * Room for the metadata frame of a `lightbeam send` message (at most 256 pieces, each with a path
 * of up to 4096 bytes and 56 bytes of fixed fields, plus the bulk descriptors), rounded up.
 */
const METADATA_FRAME_BYTES = 2 * 1024 * 1024;

/**
 * `ZMQ_MAXMSGSIZE` of the receiving socket. ZeroMQ bounds each frame (not a message's sum) and
 * disconnects a peer whose frame header announces more, before allocating anything for it, so a
 * frame beyond the data bound never reaches memory; what a message carries in total is checked
 * by the receiver once its metadata is in, before any data is read.
 */
function frameLimit(maxMessageBytes: number): number {
  return Math.max(maxMessageBytes, METADATA_FRAME_BYTES);
}

/** Options of {@link receiveFiles}; the receiver's bounds are those of {@link ReceiverLimits}. */
export interface ReceiveFilesOptions extends Partial<ReceiverLimits> {
  /** Address to bind. */
  host: string;
  /** TCP port to bind. */
  port: number;
  /** Output folder; created if missing. */
  outDir: string;
  /** Stop after this many finished transfers; without it, run until SIGINT/SIGTERM or the timeout. */
  count?: number;
  /** Stop after this long without a message. */
  timeoutMs?: number;
  /** Print each finished transfer as one JSON line. */
  json: boolean;
  /** Progress and per-file lines. */
  progress: Progress;
  /**
   * TCP port of the reply path, on which senders are told each file's verified SHA-256.
   * @defaultValue `port + 1`
   */
  replyPort?: number;
  /** CURVE on both ports: this receiver's key pair and, optionally, the senders it admits. */
  curve?: CurveServerKeys;
  /**
   * Replace files already in the output folder (`--force`); otherwise each is refused and kept.
   * @defaultValue false
   */
  force?: boolean;
}

/** A sender's transfer id as it may be printed (JSON-quoted unless plain). */
function printableId(id: string): string {
  return /^[\w.-]{1,64}$/.test(id) ? id : JSON.stringify(id.slice(0, 64));
}

/**
 * The output folder: its real path when it exists; when it does not, a function that creates it
 * when the first file arrives (a receiver that gets nothing leaves no tree behind). Whether it
 * could be created is checked now: its nearest existing ancestor must be a folder we may write.
 *
 * @throws CliError naming the folder and why it cannot be used
 */
async function outputFolder(outDir: string): Promise<string | (() => Promise<string>)> {
  const cannot = (why: string): CliError => new CliError(`cannot create the output folder ${outDir}: ${why}`);
  const st = await stat(outDir).catch((err: NodeJS.ErrnoException) => {
    // ENOTDIR: a part of the path is a file; the walk up below names it.
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw cannot(err.message);
  });
  if (st !== null) {
    if (!st.isDirectory()) throw cannot('it exists and is not a folder');
    return realpath(outDir);
  }
  let ancestor = dirname(outDir);
  for (;;) {
    const a = await stat(ancestor).catch(() => null);
    if (a !== null) {
      if (!a.isDirectory()) throw cannot(`${ancestor} is not a folder`);
      await access(ancestor, fsConstants.W_OK | fsConstants.X_OK).catch(() => {
        throw cannot(`${ancestor} is not writable`);
      });
      break;
    }
    const up = dirname(ancestor);
    if (up === ancestor) throw cannot('no part of its path exists');
    ancestor = up;
  }
  return async () => {
    await mkdir(outDir, { recursive: true });
    return realpath(outDir);
  };
}

/**
 * Receives transfers until `count` of them finished, the timeout passed, or a signal arrived.
 *
 * @returns `true` when nothing was refused or failed and `count` (if given) was reached
 * @throws CliError when the port cannot be bound or the folder cannot be created
 */
export async function receiveFiles(opts: ReceiveFilesOptions): Promise<boolean> {
  const outDir = resolve(opts.outDir);
  const root = await outputFolder(outDir);
  const limits = resolveReceiverLimits({
    maxMessageBytes: opts.maxMessageBytes,
    maxOpenFiles: opts.maxOpenFiles,
    maxTransfers: opts.maxTransfers,
    idleMs: opts.idleMs,
  });
  const where = `${opts.host}:${opts.port}`;
  const replyPort = opts.replyPort ?? opts.port + 1;
  if (replyPort > 65535) throw new CliError(`the reply port would be ${replyPort}: give --reply-port`);
  let server: Server;
  try {
    server = await TransportFactory.getServer(opts.host, Transport.kZeroMq, 'tcp', opts.port, {
      maxMessageSize: frameLimit(limits.maxMessageBytes),
      curve: opts.curve,
    });
  } catch (err) {
    if (err instanceof LightbeamError && err.code === 'ERR_LBM_BIND') {
      const reason = err.errno === EADDRINUSE || /in use/i.test(err.message) ? 'address already in use' : err.message;
      throw new CliError(`cannot listen on ${where}: ${reason}`);
    }
    throw err;
  }
  let clean = true;
  // Transfers refused when their sender asked to be watched, for the receive loop to report: a
  // message larger than the bound would be dropped by ZeroMQ unseen, so it is refused up front.
  const refusedEarly: TransferReport[] = [];
  const admitTransfer = (req: WatchRequest): string | null => {
    if (req.messageBytes === undefined || req.messageBytes <= limits.maxMessageBytes) return null;
    const reason =
      `its largest message carries ${req.messageBytes} bytes of data, above the receiver's limit of ${limits.maxMessageBytes} bytes per message ` +
      `(recv --max-message-bytes); send with --message-bytes ${limits.maxMessageBytes} or less`;
    clean = false;
    process.stderr.write(`lightbeam recv: refused transfer ${printableId(req.transferId)} before any data: ${reason}\n`);
    const path = TRANSFER_PATH;
    refusedEarly.push({ transferId: req.transferId, announced: 0, received: [], refused: [{ path, reason }], bytes: 0 });
    return reason;
  };
  let confirm: ConfirmServer;
  try {
    confirm = await ConfirmServer.bind({ host: opts.host, port: replyPort, curve: opts.curve, admit: admitTransfer });
  } catch (err) {
    await server.close();
    throw err;
  }
  const { progress } = opts;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  // Silent transfers are swept between messages (never while one is being handled), at least this often.
  const sweepMs = Math.max(50, Math.min(1000, Math.floor(limits.idleMs / 4)));
  let progressFor = '';
  const receiver = new FileReceiver(
    server,
    root,
    {
      onFile: (f, transferId) => {
        progress.log(`received ${f.path} (${formatBytes(f.size)}) sha256 ${f.sha256.slice(0, 16)}... verified`);
        confirm.publish({ event: 'file', transferId, path: f.path, sha256: f.sha256 });
      },
      onRefused: (r, transferId) => {
        clean = false;
        const line = r.reason.startsWith('refused') ? r.reason : `${r.path}: ${r.reason}`;
        process.stderr.write(`lightbeam recv: ${line}\n`);
        confirm.publish({ event: 'refused', transferId, path: r.path, reason: r.reason });
      },
      onBytes: (id, bytes, total) => {
        if (id !== progressFor) {
          progressFor = id;
          progress.start(total, 'receiving');
        }
        progress.update(bytes);
      },
      onAbandoned: (r) => {
        process.stderr.write(`lightbeam recv: transfer ${printableId(r.transferId)} abandoned after ${r.received.length} of ${r.announced} files: ${r.abandoned}\n`);
        report(r);
      },
    },
    limits,
    { overwrite: opts.force === true },
  );
  function report(r: TransferReport): void {
    progress.stop();
    progressFor = '';
    confirm.publish({ event: 'done', transferId: r.transferId, received: r.received.length, announced: r.announced, abandoned: r.abandoned });
    if (r.received.length !== r.announced) clean = false;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ event: 'transfer', ...r })}\n`);
      return;
    }
    const verdict = r.refused.length === 0 && r.received.length === r.announced ? 'all SHA-256 verified' : `${r.refused.length} refused or failed`;
    progress.log(`transfer ${r.transferId}: ${r.received.length} of ${r.announced} files, ${formatBytes(r.bytes)}, ${verdict}`);
  }

  const shownOut = typeof root === 'string' ? root : outDir;
  if (!opts.json) progress.log(`listening on tcp://${where}, writing to ${shownOut}${shownOut === root ? '' : ' (created when the first file arrives)'} (confirmations on port ${confirm.port})`);
  else process.stdout.write(`${JSON.stringify({ event: 'listening', address: where, out: shownOut, replyPort: confirm.port })}\n`);
  let done = 0;
  let lastMessage = performance.now();
  try {
    while (opts.count === undefined || done < opts.count) {
      const left = opts.timeoutMs === undefined ? Infinity : opts.timeoutMs - (performance.now() - lastMessage);
      const meta = new FileBatchMeta();
      const rc = left <= 0 ? ETIMEDOUT : await server.waitMetadata(meta, { timeoutMs: Math.min(sweepMs, left), signal: stop.signal });
      await receiver.expireIdle();
      for (const r of refusedEarly.splice(0)) {
        lastMessage = performance.now();
        // Its one line is on stderr already; --json still gets the transfer's line.
        if (opts.json) report(r);
        done++;
      }
      if (opts.count !== undefined && done >= opts.count) break;
      if (rc === ETIMEDOUT && left > sweepMs) continue;
      if (rc !== ETIMEDOUT) lastMessage = performance.now();
      if (rc === 0) {
        const r = await receiver.handle(meta);
        if (r !== null) {
          report(r);
          done++;
        }
      } else if (rc === LBM_MALFORMED) {
        clean = false;
        process.stderr.write('lightbeam recv: refused a message whose metadata cannot be decoded (not from "lightbeam send"?)\n');
      } else if (rc === ETIMEDOUT) {
        if (opts.count !== undefined) {
          clean = false;
          process.stderr.write(`lightbeam recv: no message for ${opts.timeoutMs} ms; ${done} of ${opts.count} transfers finished\n`);
        }
        break;
      } else if (rc === ECANCELED || rc === ESHUTDOWN) {
        break;
      } else {
        throw new CliError(`receive failed: ${strerror(rc)} (code ${rc})`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const r of await receiver.abandonAll()) report(r);
    progress.stop();
    await server.close();
    // Last: the confirmations of the final transfers are still on their way to the senders.
    await confirm.close();
  }
  return clean;
}
