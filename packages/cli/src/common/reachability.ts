/**
 * A TCP probe before sending. ZeroMQ's PUSH socket queues messages for a peer that is not there
 * (and drops them at close), so without this check `lightbeam send` to a wrong address would
 * "succeed" silently.
 */
import { connect } from 'node:net';
import { CliError } from './cli-error.js';

/**
 * Resolves when something accepts TCP connections at `host:port`.
 *
 * @param host - host name or address
 * @param port - TCP port
 * @param timeoutMs - how long to wait for the connection
 * @throws CliError naming the address and the reason (refused, unknown host, no answer)
 */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise<void>((resolve, reject) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new CliError(`cannot reach ${where}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      const why =
        err.code === 'ECONNREFUSED'
          ? 'connection refused (is "lightbeam recv" listening there?)'
          : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
            ? 'unknown host'
            : err.message;
      reject(new CliError(`cannot reach ${where}: ${why}`));
    });
  });
}
