/**
 * What `lightbeam bridge` does once its options are parsed: start the host (memory, bridge,
 * workers), print readiness, wait for a signal or the workers, close, print the counters.
 */
import { resolve } from 'node:path';
import type { BridgeHostOptions } from '@lightbeam/zmq-bridge';
import { BridgeHost } from '@lightbeam/zmq-bridge';
import { CliError, MAX_BUFFER_BYTES, MAX_TIMER_MS, UsageError, oneLine } from '../common/cli-error.js';
import type { BridgeCliOpts } from './bridge-options.js';
import { optionalInt } from './bridge-options.js';
import { zmqUrlOption } from './options.js';

const list = (s: string | undefined): string[] => (s === undefined ? [] : s.split(',').map((x) => x.trim()).filter((x) => x.length > 0));

/**
 * Builds the host options from the command line.
 *
 * @throws UsageError naming the option and the value
 */
export function bridgeHostOptions(opts: BridgeCliOpts): BridgeHostOptions {
  if (opts.listen === undefined && opts.peer === undefined) throw new UsageError('give --listen, --peer, or both');
  const channels = list(opts.channels).map((c) => {
    const [local, remote, extra] = c.split('=');
    if (extra !== undefined || local === '' || remote === '') throw new UsageError(`--channels: bad entry ${JSON.stringify(c)} (name or local=remote)`);
    return remote === undefined ? local : { local, remote };
  });
  if (opts.peer !== undefined && channels.length === 0) throw new UsageError('--peer needs --channels to forward');
  if (opts.peer === undefined && channels.length > 0) throw new UsageError('--channels needs --peer to forward to');
  const keys = [opts.curveSecretKey, opts.curvePublicKey];
  if (keys.some((k) => k !== undefined) && keys.some((k) => k === undefined)) throw new UsageError('CURVE needs both --curve-secret-key and --curve-public-key');
  if (opts.curveServerKey !== undefined && opts.curveSecretKey === undefined) throw new UsageError('--curve-server-key needs --curve-secret-key and --curve-public-key');
  const allow = (opts.curveAllow ?? []).flatMap((s) => list(s));
  if (allow.length > 0 && opts.curveSecretKey === undefined) throw new UsageError('--curve-allow needs --curve-secret-key and --curve-public-key');
  return {
    listen: zmqUrlOption('--listen', opts.listen),
    peer: zmqUrlOption('--peer', opts.peer),
    channels,
    defaultChannel: opts.defaultChannel,
    acceptChannels: opts.acceptChannels === undefined ? undefined : list(opts.acceptChannels),
    curve:
      opts.curveSecretKey === undefined
        ? undefined
        : {
            secretKey: opts.curveSecretKey,
            publicKey: opts.curvePublicKey as string,
            serverKey: opts.curveServerKey,
            allowedClients: allow.length === 0 ? undefined : allow,
          },
    highWaterMark: optionalInt('--hwm', opts.hwm),
    sendTimeoutMs: optionalInt('--send-timeout-ms', opts.sendTimeoutMs, 0, MAX_TIMER_MS),
    deliverTimeoutMs: optionalInt('--deliver-timeout-ms', opts.deliverTimeoutMs, 0, MAX_TIMER_MS),
    drainMs: optionalInt('--drain-ms', opts.drainMs, 0, MAX_TIMER_MS),
    maxMessageBytes: optionalInt('--max-message-bytes', opts.maxMessageBytes, 1, MAX_BUFFER_BYTES),
    workers: (opts.worker ?? []).map((w) => resolve(w)),
    memory: { regionBytes: (optionalInt('--region-mib', opts.regionMib, 1) ?? 256) * 1024 * 1024 },
    onUndelivered: (r) => process.stderr.write(`lightbeam bridge: undelivered (${r.direction}, channel ${r.channel ?? '?'}): ${r.reason}\n`),
  };
}

/**
 * Runs the bridge until SIGINT/SIGTERM (or the workers' exit with `--exit-with-workers`).
 *
 * @returns false when a worker failed
 * @throws UsageError for bad options, CliError when the bridge cannot start (port in use, ...)
 */
export async function runBridge(opts: BridgeCliOpts): Promise<boolean> {
  const options = bridgeHostOptions(opts);
  let host: BridgeHost;
  try {
    host = await BridgeHost.start(options);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_LBM_INVALID_ARGUMENT') throw new UsageError(oneLine(err));
    throw new CliError(oneLine(err));
  }
  const b = host.bridge;
  // Listen for the signals before saying ready: whoever reads "bridge ready" may signal at once,
  // and a signal with no listener yet kills the process instead of closing the bridge.
  const stop = new Promise<'signal'>((res) => {
    process.once('SIGINT', () => res('signal'));
    process.once('SIGTERM', () => res('signal'));
  });
  process.stdout.write(`bridge ready listen=${b.endpoint ?? '-'} port=${b.port ?? '-'} peer=${options.peer ?? '-'} channels=${b.channels.join(',') || '-'} workers=${host.workers.length}\n`);
  const waits: Promise<unknown>[] = [stop];
  if (opts.exitWithWorkers) waits.push(host.workersDone.then(() => 'workers' as const));
  const why = await Promise.race(waits);
  await host.close();
  const exits = await host.workersDone;
  let ok = true;
  for (const e of exits) {
    // On a signal the workers still running are terminated (exit code 1): that is no failure.
    if (e.code !== 0 && why === 'workers') {
      ok = false;
      process.stderr.write(`lightbeam bridge: worker ${e.file} exited with ${e.code}${e.error === undefined ? '' : `: ${e.error}`}\n`);
    }
  }
  process.stdout.write(`bridge stats ${JSON.stringify(b.stats())}\n`);
  return ok;
}
