/**
 * `lightbeam bridge` child processes for the tests: started with plain `node` on the built CLI
 * (optionally behind a prefix such as `ip netns exec <ns>`), output collected, the worker
 * fixtures' JSON lines parsed, exit awaited with a bound.
 */
import { fileURLToPath } from 'node:url';
import type { Child } from '../../zmq/support/child.js';
import { spawnChild } from '../../zmq/support/child.js';

/** The CLI entry point. */
export const LIGHTBEAM_BIN = fileURLToPath(new URL('../../../packages/cli/bin/lightbeam.js', import.meta.url));

/** Absolute path of a fixture under test/fixtures/bridge. */
export function bridgeFixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/bridge/${name}`, import.meta.url));
}

/** The counters a bridge process prints on exit. */
export interface PrintedStats {
  egress: Record<string, number>;
  ingress: Record<string, number>;
  undeliveredByCode: Record<string, number>;
}

/** A running bridge process. */
export interface BridgeChild extends Child {
  /** The ingress port printed on "bridge ready" (null without --listen). */
  port: number | null;
  /** JSON lines of kind `kind` printed so far. */
  lines(kind: string): Record<string, unknown>[];
  /** The counters printed on exit. */
  stats(): PrintedStats | null;
  /** SIGKILL if still running. */
  kill(): void;
}

/**
 * Starts `lightbeam bridge <args>` without waiting for it.
 *
 * @param args - options after `bridge`
 * @param env - environment for the process and its workers
 * @param prefix - command prefix (e.g. `['ip', 'netns', 'exec', 'ns']`)
 */
export function spawnBridge(args: string[], env: Record<string, string> = {}, prefix: string[] = []): BridgeChild {
  const base = spawnChild([...prefix, process.execPath, LIGHTBEAM_BIN, 'bridge', ...args], env, 'bridge');
  let exitedAlready = false;
  base.proc.once('exit', () => (exitedAlready = true));
  const out = base.stdout;
  const child: BridgeChild = {
    ...base,
    port: null,
    lines: (kind) =>
      out()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((o) => o.kind === kind),
    stats: () => {
      const s = /bridge stats (\{.*\})/.exec(out());
      return s === null ? null : (JSON.parse(s[1]) as PrintedStats);
    },
    kill: () => {
      if (!exitedAlready) base.proc.kill('SIGKILL');
    },
  };
  return child;
}

/**
 * Starts `lightbeam bridge <args>` and waits for "bridge ready" (and its port).
 *
 * @param args - options after `bridge`
 * @param env - environment for the process and its workers
 * @param prefix - command prefix
 */
export async function startBridge(args: string[], env: Record<string, string> = {}, prefix: string[] = []): Promise<BridgeChild> {
  const child = spawnBridge(args, env, prefix);
  try {
    await child.printed('bridge ready', 20000);
  } catch (e) {
    child.kill();
    throw e;
  }
  const m = /bridge ready .*port=(\d+)/.exec(child.stdout());
  child.port = m === null ? null : Number(m[1]);
  return child;
}
