/**
 * The control link of `lightbeam demo`: a ZeroMQ REQ/REP pair beside the data paths, on which
 * the local side learns the far side's ports, announces each run and asks for its verdict. One
 * JSON object per message.
 */
import { Request } from 'zeromq';
import { CliError } from '../common/cli-error.js';
import type { RunExpectation, RunVerdict } from './verifier.js';

/**
 * `ZMQ_MAXMSGSIZE` of both ends of the control link: its JSON messages are a few hundred bytes,
 * so anything far larger is no control message and is dropped by ZeroMQ unread.
 */
export const CONTROL_MAX_MESSAGE_BYTES = 64 * 1024;

/** The two workloads of a demo run. */
export type RunName = 'shm' | 'baseline';

/** A request of the control link. */
export type ControlRequest =
  | { op: 'hello' }
  | { op: 'expect'; run: RunName; expect: RunExpectation }
  | { op: 'result'; run: RunName; idleMs: number }
  | { op: 'memory' }
  | { op: 'bye' };

/** The answer to `hello`: where the far side's data paths listen. */
export interface HelloReply {
  /** TCP port of the bridge ingress (the kShm path). */
  bridgePort: number;
  /** TCP port of the raw zeromq.js PULL (the baseline path). */
  baselinePort: number;
  /** Process id of the far side. */
  pid: number;
}

/** The far side's memory, for soak runs (`memory`): where its resident bytes are. */
export interface MemoryReply {
  /** Resident set size. */
  rss: number;
  /** V8 heap in use. */
  heapUsed: number;
  /** Memory of C++ objects bound to JavaScript (zeromq.js messages among them). */
  external: number;
  /** ArrayBuffers and SharedArrayBuffers (the shared-memory region among them). */
  arrayBuffers: number;
  /** Bytes of the shared-memory region in blocks now. */
  slabBytesInUse: number;
}

/** A reply of the control link: the answer, or an error message. */
export type ControlReply = { ok: true; hello?: HelloReply; verdict?: RunVerdict; memory?: MemoryReply } | { ok: false; error: string };

/** The local end of the control link. */
export class ControlClient {
  private readonly socket: Request;

  /**
   * @param host - the far side's host
   * @param port - its control port
   * @param timeoutMs - default wait for an answer
   */
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {
    // linger 0: a control request nobody answers must not hold the process at exit.
    this.socket = new Request({ linger: 0, sendTimeout: timeoutMs, maxMessageSize: CONTROL_MAX_MESSAGE_BYTES });
    this.socket.connect(`tcp://${host.includes(':') ? `[${host}]` : host}:${port}`);
  }

  /**
   * Sends one request and waits for its reply.
   *
   * @param req - the request
   * @param timeoutMs - how long to wait for the reply (default: the client's)
   * @throws CliError when no reply comes in time or the far side answers with an error
   */
  async call(req: ControlRequest, timeoutMs = this.timeoutMs): Promise<ControlReply & { ok: true }> {
    this.socket.receiveTimeout = timeoutMs;
    let raw: Buffer;
    try {
      await this.socket.send(JSON.stringify(req));
      [raw] = await this.socket.receive();
    } catch (err) {
      const code = (err as { code?: string }).code;
      const why = code === 'EAGAIN' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
      throw new CliError(`demo remote at ${this.host}:${this.port} (${req.op}): ${why}`);
    }
    const reply = JSON.parse(raw.toString('utf8')) as ControlReply;
    if (!reply.ok) throw new CliError(`demo remote at ${this.host}:${this.port} (${req.op}): ${reply.error}`);
    return reply;
  }

  /** Closes the socket; pending requests fail. */
  close(): void {
    this.socket.close();
  }
}
