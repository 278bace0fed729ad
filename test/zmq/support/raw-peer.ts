/**
 * A peer played from raw zeromq.js sockets, as a C++ server (or another implementation) would
 * be: a PULL for the data, and, when it takes part in the negotiation, a ROUTER at the derived
 * address answering each hello with bytes the test chose.
 */
import { rmSync } from 'node:fs';
import { NEGOTIATE_PORT_OFFSET } from '@lightbeam/zmq-bridge';
import { Pull, Router } from 'zeromq';
import type { Protocol } from './zmq-pair.js';
import { uniqueAddress } from './zmq-pair.js';

/** A raw server: its sockets, what it was asked, and how a client reaches it. */
export interface RawPeer {
  pull: Pull;
  router: Router | null;
  /** Hello frames received on the negotiation endpoint. */
  hellos: Buffer[];
  /** `ZeroMqClient.create` arguments. */
  addr: string;
  port: number;
  close(): void;
}

/**
 * Binds a raw PULL, and a ROUTER beside it answering `answer` when given.
 *
 * @param protocol - tcp, ipc or inproc
 * @param answer - the answer frame, or `null` for a peer that does not negotiate (C++)
 */
export async function rawPeer(protocol: Protocol, answer: Buffer | null): Promise<RawPeer> {
  for (let attempt = 0; ; attempt++) {
    const addr = uniqueAddress(protocol);
    const pull = new Pull({ linger: 0 });
    await pull.bind(protocol === 'tcp' ? `tcp://${addr}:*` : `${protocol}://${addr}`);
    const ep = pull.lastEndpoint as string;
    const port = protocol === 'tcp' ? Number(ep.split(':').pop()) : 1;
    const files = protocol === 'ipc' ? [addr] : [];
    let router: Router | null = null;
    if (answer !== null) {
      router = new Router({ linger: 0 });
      const url = protocol === 'tcp' ? `tcp://127.0.0.1:${port + NEGOTIATE_PORT_OFFSET}` : `${ep}.lbmn`;
      try {
        await router.bind(url);
      } catch (err) {
        // The derived tcp port is taken by another process: try another pair.
        router.close();
        pull.close();
        if (attempt < 8 && protocol === 'tcp') continue;
        throw err;
      }
      if (protocol === 'ipc') files.push(`${addr}.lbmn`);
    }
    const hellos: Buffer[] = [];
    if (router !== null) void answerLoop(router, answer as Buffer, hellos);
    return {
      pull,
      router,
      hellos,
      addr: protocol === 'tcp' ? '127.0.0.1' : addr,
      port,
      close() {
        pull.close();
        router?.close();
        for (const f of files) rmSync(f, { force: true });
      },
    };
  }
}

async function answerLoop(router: Router, answer: Buffer, hellos: Buffer[]): Promise<void> {
  try {
    for (;;) {
      const [id, hello] = await router.receive();
      hellos.push(hello);
      await router.send([id, answer]);
    }
  } catch {
    // Closed.
  }
}
