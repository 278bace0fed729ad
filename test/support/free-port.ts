/**
 * Free TCP ports on 127.0.0.1 for tests that hand a port to a process or a bridge before it binds.
 */
import { createServer } from 'node:net';

/** Listens on `port` (0: the kernel picks) on 127.0.0.1, then closes; resolves the port, or 0 if taken. */
function tryPort(port: number): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(0));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(got));
    });
  });
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1 (the kernel picks it), with the next two
 * free as well: `recv` also binds port + 1 (its reply path) and `demo-remote` port + 1 and + 2,
 * and a neighbour taken by another process made those tests fail now and then.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await tryPort(0);
    if (port !== 0 && port <= 65533 && (await tryPort(port + 1)) !== 0 && (await tryPort(port + 2)) !== 0) return port;
    if (attempt >= 50) throw new Error('no free TCP port with two free neighbours on 127.0.0.1');
  }
}
