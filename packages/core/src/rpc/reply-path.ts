/**
 * The reply path of RPC: every `RpcClient` owns a server endpoint of its own (a shared-memory
 * channel, or a ZeroMQ PULL socket on an ephemeral port) and writes its address into each
 * request's `replyTo`; the `RpcServer` connects a client to that address (cached) and sends the
 * reply there. Lightbeam stays one-way PUSH/PULL underneath, as the C++ wire expects.
 *
 * | transport | `replyTo`                                   | the server connects with                        |
 * |-----------|---------------------------------------------|-------------------------------------------------|
 * | kShm      | a channel name, `lbm-rpc-<uuid>`            | `getClient(name, kShm)`                          |
 * | kZeroMq   | the bound URL, `tcp://127.0.0.1:41234`, `ipc://path`, `inproc://name` | `getClient(host, kZeroMq, protocol, port)` |
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '../protocol/client.js';
import { LightbeamError } from '../protocol/lightbeam-error.js';
import type { Server } from '../protocol/server.js';
import { Transport, TransportFactory } from '../protocol/transport-factory.js';

/** Where a client's replies arrive. */
export interface ReplyEndpointOptions {
  /**
   * ZeroMQ: the host the reply socket binds (use an address the server can reach).
   * @defaultValue '127.0.0.1'
   */
  replyHost?: string;
  /**
   * ZeroMQ: `tcp`, `ipc` or `inproc` for the reply socket.
   * @defaultValue the request protocol
   */
  replyProtocol?: string;
  /**
   * Shared memory: the reply channel's name.
   * @defaultValue `lbm-rpc-<uuid>`
   */
  replyChannel?: string;
  /** Transport options of the reply server (e.g. `capacity` over shared memory). */
  replyServerOptions?: Record<string, unknown>;
}

/** A bound reply endpoint. */
export interface ReplyEndpoint {
  /** The server replies arrive at. */
  server: Server;
  /** Its address as a request's `replyTo` carries it. */
  replyTo: string;
}

/** A ZeroMQ URL as `TransportFactory.getClient` takes it. */
export interface ReplyUrl {
  /** `tcp`, `ipc` or `inproc`. */
  protocol: string;
  /** Host (tcp), path (ipc) or name (inproc). */
  addr: string;
  /** TCP port; 0 for the others. */
  port: number;
}

/**
 * Binds a fresh reply endpoint for a client of `transport` and tells its address.
 *
 * @param transport - the transport of the requests (replies use the same one)
 * @param protocol - the protocol of the requests (ZeroMQ)
 * @param opts - where to bind
 * @returns the bound server and the address to put in `replyTo`
 */
export async function bindReplyEndpoint(transport: Transport, protocol: string | undefined, opts: ReplyEndpointOptions = {}): Promise<ReplyEndpoint> {
  const serverOptions = opts.replyServerOptions ?? {};
  if (transport === Transport.kShm) {
    const name = opts.replyChannel ?? `lbm-rpc-${randomUUID()}`;
    const server = await TransportFactory.getServer(name, transport, undefined, undefined, serverOptions);
    return { server, replyTo: name };
  }
  const proto = opts.replyProtocol ?? protocol ?? 'tcp';
  const addr = proto === 'tcp' ? (opts.replyHost ?? '127.0.0.1') : proto === 'ipc' ? join(tmpdir(), `lbm-rpc-${randomUUID()}.sock`) : `lbm-rpc-${randomUUID()}`;
  const server = await TransportFactory.getServer(addr, transport, proto, 0, serverOptions);
  const endpoint = (server as Server & { getEndpoint?: () => string | null }).getEndpoint?.() ?? null;
  if (endpoint === null) {
    await server.close();
    throw new LightbeamError('ERR_LBM_BIND', `rpc reply endpoint on ${proto}://${addr} has no bound URL to advertise`);
  }
  return { server, replyTo: endpoint };
}

/** Parses a ZeroMQ reply URL into the factory's coordinates, or `null` when it is not one. */
export function parseReplyUrl(url: string): ReplyUrl | null {
  const m = /^(tcp|ipc|inproc):\/\/(.+)$/.exec(url);
  if (m === null) return null;
  const protocol = m[1] as string;
  const rest = m[2] as string;
  if (protocol !== 'tcp') return { protocol, addr: rest, port: 0 };
  const hp = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(rest);
  if (hp === null) return null;
  const port = Number(hp[2]);
  if (port < 1 || port > 65535) return null;
  const host = (hp[1] as string).replace(/^\[(.*)\]$/, '$1');
  return { protocol, addr: host, port };
}

/**
 * The transport options of an RPC client (requests or replies): the caller's, over defaults that
 * suit one small message at a time. Over ZeroMQ that is `batch: false`: a batching client holds a
 * small message until the end of the event-loop turn to pack it with others, one more turn on
 * each way of every call.
 *
 * @param transport - the RPC's transport
 * @param options - the caller's options; theirs win
 */
export function rpcClientOptions(transport: Transport, options: Record<string, unknown> | undefined): Record<string, unknown> {
  return transport === Transport.kZeroMq ? { batch: false, ...options } : (options ?? {});
}

/**
 * Connects a client to a reply address received in a request.
 *
 * @param transport - the transport the request came over
 * @param replyTo - the request's `replyTo`
 * @param options - transport options for the client
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for an address the transport cannot use
 */
export async function connectReply(transport: Transport, replyTo: string, options: Record<string, unknown> = {}): Promise<Client> {
  if (transport === Transport.kShm) return TransportFactory.getClient(replyTo, transport, undefined, undefined, options);
  const p = parseReplyUrl(replyTo);
  if (p === null) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `rpc replyTo ${JSON.stringify(replyTo)} is not a tcp://host:port, ipc:// or inproc:// URL`);
  return TransportFactory.getClient(p.addr, transport, p.protocol, p.port, options);
}
