/**
 * `lightbeam bridge --listen <url> --peer <url> --channels a,b [--worker file.mjs ...]`: runs a
 * bridge process that owns this host's shared-memory domain.
 */
import type { Command } from 'commander';
import { parseIntOption } from '../common/cli-error.js';
import { runBridge } from './bridge-run.js';
import type { SubcommandModule } from './subcommand.js';

/** Raw options as Commander hands them over. */
export interface BridgeCliOpts {
  listen?: string;
  peer?: string;
  channels?: string;
  defaultChannel?: string;
  acceptChannels?: string;
  worker?: string[];
  curveSecretKey?: string;
  curvePublicKey?: string;
  curveServerKey?: string;
  curveAllow?: string[];
  hwm?: string;
  sendTimeoutMs?: string;
  deliverTimeoutMs?: string;
  drainMs?: string;
  maxMessageBytes?: string;
  regionMib: string;
  exitWithWorkers: boolean;
}

// No default list: Commander would print "(default: [])" in the help of a repeatable option.
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The `bridge` subcommand. */
export const bridgeCommand: SubcommandModule = {
  name: 'bridge',
  register(program: Command): void {
    program
      .command('bridge')
      .summary('join this host\'s shared memory to another host\'s over ZeroMQ')
      .description(
        'Run a bridge: local workers send to the --channels, and each message is forwarded to the bridge at --peer, ' +
          'which delivers it into the channel of the same name in its shared memory (--listen). Only BULK_XFER data ' +
          'crosses; BULK_EXPOSE bulks arrive as descriptors (data null). Messages without a routing frame (a plain ' +
          'C++ Lightbeam or ZeroMqClient sender) go to --default-channel. A SharedArrayBuffer cannot be shared between ' +
          'processes, so this process owns the host\'s shared memory: --worker scripts run as worker threads attached to ' +
          'it (workerData.lightbeamShm is the memory handle, attach with attachFromWorkerData() from @lightbeam/shm; ' +
          'workerData.bridge lists the channels). Prints "bridge ready ..." once bound, a JSON line of counters on exit. ' +
          'Stops on SIGINT/SIGTERM, or with --exit-with-workers when every worker has exited.',
      )
      .option('--listen <url>', 'ingress address to bind, tcp://host:port or host:port, e.g. tcp://0.0.0.0:9000 (port 0: ephemeral)')
      .option('--peer <url>', 'ingress of the peer bridge, tcp://host:port or host:port, e.g. 10.0.0.2:9000')
      .option('--channels <list>', 'channels to forward to the peer, comma separated; local=remote renames')
      .option('--default-channel <name>', 'channel for messages without a routing frame')
      .option('--accept-channels <list>', 'only deliver into these channels (comma separated)')
      .option('--worker <file>', 'worker script attached to the shared memory (repeatable)', collect)
      .option('--curve-secret-key <z85>', 'CURVE: this bridge\'s secret key')
      .option('--curve-public-key <z85>', 'CURVE: this bridge\'s public key')
      .option('--curve-server-key <z85>', 'CURVE: the peer bridge\'s public key')
      .option('--curve-allow <z85,...>', 'CURVE: the ingress admits only these peer public keys (repeatable)', collect)
      .option('--hwm <n>', 'ZeroMQ high-water mark (messages)')
      .option('--send-timeout-ms <ms>', 'how long the egress waits for room before reporting a message')
      .option('--deliver-timeout-ms <ms>', 'how long the ingress waits for a full local channel')
      .option('--drain-ms <ms>', 'on exit, how long queued messages are still forwarded')
      .option('--max-message-bytes <n>', 'largest frame the ingress reads; ZeroMQ drops a peer sending more before reading it (default 256 MiB)')
      .option('--region-mib <n>', 'shared memory region size in MiB', '256')
      .option('--exit-with-workers', 'close the bridge and exit once every worker exited (1 if one failed)')
      .action(async (opts: BridgeCliOpts) => {
        const ok = await runBridge(opts);
        if (!ok) process.exitCode = 1;
      });
  },
};

/** Parses an optional integer option. */
export function optionalInt(name: string, text: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return text === undefined ? undefined : parseIntOption(name, text, min, max);
}
