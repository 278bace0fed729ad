/**
 * `lightbeam demo-remote --listen <host:port>`: the far side of `lightbeam demo`.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError, parseIntOption } from '../common/cli-error.js';
import { runDemoRemote } from '../demo/remote.js';
import { parseHostPortOption } from './options.js';
import type { SubcommandModule } from './subcommand.js';

/**
 * Where `demo-remote` listens when `--listen` is not given: loopback only. The demo's ports take
 * anything from anyone (no CURVE), so reaching them from other hosts must be asked for.
 */
export const DEFAULT_DEMO_REMOTE_LISTEN = '127.0.0.1:9700';

interface DemoRemoteOpts {
  listen: string;
  once: boolean;
  exitWithStdin: boolean;
  regionMib: string;
  capacity: string;
}

/** The `demo-remote` subcommand. */
export const demoRemoteCommand: SubcommandModule = {
  name: 'demo-remote',
  register(program: Command): void {
    program
      .command('demo-remote')
      .summary('the far side of "lightbeam demo": receive and verify its messages')
      .description(
        'The far side of "lightbeam demo", for a run across two hosts: receives both paths of the demo and verifies every ' +
          'message. Uses three TCP ports: the control port given to --listen, the bridge ingress on the next one and the ' +
          'baseline PULL on the one after (with port 0, three ephemeral ports). Serves demo runs until Ctrl-C (or until the ' +
          'first run ends, with --once). Binds loopback unless told otherwise: across hosts, give the address explicitly ' +
          '(e.g. --listen 0.0.0.0:9700; the ports have no authentication, so only on a network you trust). Then run ' +
          '"lightbeam demo --remote <this-host>:<port>" on the other host.',
      )
      .option('--listen <host:port>', 'control address to bind (host:port or tcp://host:port); the bridge and the baseline use the next two ports', DEFAULT_DEMO_REMOTE_LISTEN)
      .option('--once', 'exit after one demo run')
      .option('--region-mib <n>', 'shared memory region size in MiB', '256')
      .option('--capacity <n>', 'ring slots of the channel the bridge delivers into', '16')
      .addOption(new Option('--exit-with-stdin', 'exit when stdin closes (set by "lightbeam demo" for its child)').hideHelp())
      .action(async (opts: DemoRemoteOpts) => {
        const listen = parseHostPortOption('--listen', opts.listen, { allowPortZero: true });
        if (listen.port > 65533) throw new UsageError(`--listen port must leave room for the next two ports, got ${listen.port}`);
        const regionMib = parseIntOption('--region-mib', opts.regionMib, 16);
        if (regionMib > 1024) throw new UsageError(`--region-mib must be at most 1024, got ${regionMib}`);
        const capacity = parseIntOption('--capacity', opts.capacity, 2);
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        if (opts.exitWithStdin === true) {
          process.stdin.on('end', onSignal).on('close', onSignal).resume();
        }
        try {
          await runDemoRemote({
            host: listen.host,
            port: listen.port,
            once: opts.once === true,
            regionBytes: regionMib << 20,
            capacity,
            log: (line) => process.stdout.write(`${line}\n`),
            signal: stop.signal,
          });
        } finally {
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
          if (opts.exitWithStdin === true) process.stdin.pause();
        }
      });
  },
};
