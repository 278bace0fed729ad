/**
 * The process `pnpm fuzz` attacks: a kZeroMq server and a bridge ingress (delivering into a
 * shared-memory channel served here), each received the way the README shows (wire decoded,
 * own recv entries pushed, data received). It reports to its parent over IPC: its ports once
 * bound, each sentinel that arrived intact, every throw of the API (caught and counted, the
 * receive loop goes on), and its RSS on request.
 */
import { BULK_XFER, ECANCELED, ESHUTDOWN, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Server } from '@lightbeam/core';
import { MemoryManager, ShmServer } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { sentinelSeq } from './hostile-frames.js';

/** A message to the parent. */
export type TargetReport =
  | { kind: 'ready'; zmqPort: number; bridgePort: number; channel: string }
  | { kind: 'sentinel'; target: 'zmq' | 'bridge'; seq: number }
  | { kind: 'throw'; target: 'zmq' | 'bridge'; message: string }
  | { kind: 'rss'; rss: number };

const send = (r: TargetReport): void => void process.send?.(r);
const stop = new AbortController();

/** Receives from `server` until stopped, as the README's receive recipe does. */
async function drain(server: Server, target: 'zmq' | 'bridge'): Promise<void> {
  for (;;) {
    const meta = new LbmMeta();
    let rc: number;
    try {
      rc = await server.waitMetadata(meta, { signal: stop.signal });
    } catch (err) {
      send({ kind: 'throw', target, message: `waitMetadata: ${(err as Error).message}` });
      continue;
    }
    if (rc === ECANCELED || rc === ESHUTDOWN) return;
    if (rc !== 0) continue;
    // Buffers of at most 64 KiB: hostile sizes are claims, not allocations.
    const bufs = meta.send.map((b) => new Uint8Array(Math.min(b.size, 1 << 16)));
    meta.send.forEach((b, i) => meta.recv.push(server.expose(bufs[i], bufs[i].byteLength, b.flags)));
    try {
      const brc = await server.recvBulks(meta);
      if (brc === 0 && meta.send.length === 1 && meta.send[0].flags === BULK_XFER) {
        const seq = sentinelSeq(bufs[0]);
        if (seq !== null) send({ kind: 'sentinel', target, seq });
      }
    } catch (err) {
      send({ kind: 'throw', target, message: `recvBulks: ${(err as Error).message}` });
      // The message stays pending: drop it by receiving into no XFER entry, so the next one is ours.
      meta.recv = [];
      await server.recvBulks(meta).catch(() => {});
    }
  }
}

async function main(): Promise<void> {
  MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
  const limits = { maxBulkSize: 1 << 20, maxStringBytes: 1 << 16 };
  const zmq = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0, { limits, maxMessageSize: 1 << 20 });
  const channel = `fuzz-${process.pid}`;
  const shm = await ShmServer.create(channel);
  const bridge = await Bridge.create({ listen: 'tcp://127.0.0.1:0', defaultChannel: channel, limits, maxMessageBytes: 1 << 20, deliverTimeoutMs: 1000 });
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'rss') send({ kind: 'rss', rss: process.memoryUsage().rss });
    if (m.kind === 'stop') stop.abort();
  });
  send({ kind: 'ready', zmqPort: zmq.port!, bridgePort: bridge.port!, channel });
  await Promise.all([drain(zmq, 'zmq'), drain(shm, 'bridge')]);
  await bridge.close();
  await shm.close();
  await zmq.close();
  process.disconnect?.();
}

void main();
