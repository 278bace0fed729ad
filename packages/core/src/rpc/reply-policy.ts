/**
 * Which `replyTo` addresses an RPC server sends replies to by default. Over ZeroMQ the server
 * connects to whatever a request names, so an exposed server would otherwise open connections
 * for anyone who reaches its port: to any host and port, or to any ipc socket on its own host.
 * ZeroMQ does not tell a PULL socket who sent a message, so the requester's host cannot be
 * checked; the default admits what is as close to it as can be known:
 *
 * | reply address | admitted when |
 * |---|---|
 * | `tcp://` loopback (127.0.0.0/8, `::1`, `localhost`) | always |
 * | `tcp://` the host the server is bound to (not a wildcard) | always: the server's own host |
 * | `tcp://` any other host | it is in `replyHosts` (or `replyHosts` holds `'*'`) |
 * | `ipc://`, `inproc://` | the request came over that same protocol (a local peer) |
 *
 * Over shared memory a reply address is a channel of this process's shared memory: admitted.
 * An `acceptReplyTo` of the application replaces this policy.
 */
import type { Server } from '../protocol/server.js';
import { Transport } from '../protocol/transport-factory.js';
import { parseReplyUrl } from './reply-path.js';

const WILDCARD_HOSTS = new Set(['*', '0.0.0.0', '::', '']);

/** True for a loopback host: 127.0.0.0/8, `::1` (also IPv4-mapped) or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The default reply-address check of a server.
 *
 * @param transport - the server's transport
 * @param server - its bound endpoint (its protocol and host are read from `getEndpoint()`)
 * @param replyHosts - further tcp hosts replies may go to; `'*'` for any
 */
export function defaultReplyPolicy(transport: Transport, server: Server, replyHosts: readonly string[] = []): (replyTo: string) => boolean {
  if (transport !== Transport.kZeroMq) return () => true;
  const anyHost = replyHosts.includes('*');
  const allowed = new Set(replyHosts.map((h) => h.toLowerCase()));
  const endpoint = (server as Server & { getEndpoint?: () => string | null }).getEndpoint?.() ?? null;
  const own = endpoint === null ? null : parseReplyUrl(endpoint);
  const ownProtocol = own?.protocol ?? 'tcp';
  if (own !== null && own.protocol === 'tcp' && !WILDCARD_HOSTS.has(own.addr)) allowed.add(own.addr.toLowerCase());
  const judge = (replyTo: string): boolean => {
    const url = parseReplyUrl(replyTo);
    if (url === null) return false;
    // A local socket path or name only for a request that came over the same local protocol:
    // a tcp peer must not make the server write into its host's ipc sockets.
    if (url.protocol !== 'tcp') return url.protocol === ownProtocol;
    return anyHost || isLoopbackHost(url.addr) || allowed.has(url.addr.toLowerCase());
  };
  // Calls come in runs from one caller: the last verdict spares the parse on the hot path.
  let last = '';
  let lastVerdict = false;
  return (replyTo: string): boolean => {
    if (replyTo !== last) {
      lastVerdict = judge(replyTo);
      last = replyTo;
    }
    return lastVerdict;
  };
}
