/**
 * Starting and talking to the worker-thread peers of the shared-memory transport tests.
 */
import { Worker } from 'node:worker_threads';
import type { MemoryManager } from '@lightbeam/shm';
import { watchWorker } from '@lightbeam/shm';

const PEER = new URL('../../fixtures/shm-transport/peer.mjs', import.meta.url);

/** What a peer posts. */
export interface PeerMessage {
  ready?: boolean;
  done?: boolean;
  error?: string;
  [key: string]: unknown;
}

/** A running peer worker. */
export interface Peer {
  worker: Worker;
  /** Resolves with the next message that has `key` set (rejects on an error report or exit). */
  next(key: string, timeoutMs?: number): Promise<PeerMessage>;
}

/**
 * Starts a peer worker attached to `manager`, watched so its channels are reaped when it exits.
 *
 * @param manager - the memory to attach
 * @param data - mode, channel and mode options
 */
export function startPeer(manager: MemoryManager, data: Record<string, unknown>): Peer {
  const worker = watchWorker(new Worker(PEER, { workerData: { ...data, lightbeamShm: manager.handle() }, execArgv: [] }));
  const inbox: PeerMessage[] = [];
  const waiters: Array<() => void> = [];
  let failure: Error | null = null;
  worker.on('message', (m: PeerMessage) => {
    if (m.error !== undefined) failure = new Error(`peer ${String(data.mode)} failed: ${m.error}`);
    else inbox.push(m);
    waiters.splice(0).forEach((w) => w());
  });
  worker.on('error', (err) => {
    failure = err;
    waiters.splice(0).forEach((w) => w());
  });
  worker.on('exit', () => waiters.splice(0).forEach((w) => w()));
  return {
    worker,
    async next(key, timeoutMs = 30000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (failure !== null) throw failure;
        const i = inbox.findIndex((m) => m[key] !== undefined);
        if (i >= 0) return inbox.splice(i, 1)[0];
        if (Date.now() > deadline) throw new Error(`peer ${String(data.mode)} sent no '${key}' within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.max(1, deadline - Date.now()));
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
  };
}

export { checksum, pattern, sendAcceptanceCases } from '../../fixtures/shm-transport/acceptance.mjs';
