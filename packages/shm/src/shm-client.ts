/**
 * The shared-memory client: writes each message's envelope inline into a ring slot when it fits,
 * or into a slab block the slot points to, and rings the server's doorbell once per burst.
 */
import { threadId } from 'node:worker_threads';
import type { OutgoingMessage, WaitSpec } from '@lightbeam/core';
import { Client, EAGAIN, ECONNRESET, ENOMEM, ETIMEDOUT, raceWait, remainingMs } from '@lightbeam/core';
import type { Pointer } from '@lightbeam/core';
import { ChannelDirectory } from './channel-directory.js';
import { envelopeBytes, writeEnvelope } from './envelope.js';
import { RING_DEAD, RING_OPEN, type Ring } from './ring.js';
import { SLOT_BLOCK_REF_BYTES, SLOT_PREFIX_BYTES, TAG_BLOCK, TAG_INLINE, channelDirectory, regionOf, ringAt, transportMemory } from './shm-channels.js';
import type { ShmMemory } from './shm-memory.js';

/** Options of a shared-memory client. */
export interface ShmClientOptions {
  /**
   * A full ring whose server shows no heartbeat for this long makes waiting sends resolve
   * `ECONNRESET` (a server thread that died without a watcher noticing).
   * @defaultValue 5000
   */
  peerTimeoutMs?: number;
}

/** Longest single park before a waiting send re-checks the ring, the directory and the peer. */
const MAX_PARK_MS = 250;

const noop = (): void => {};

/**
 * Client side of `Transport.kShm`. Any attached thread may create one for a channel; many clients
 * may send to one server.
 *
 * Sends made in one synchronous run of code share one doorbell, rung in a microtask when that run
 * ends. A thread that blocks right after sending (`Atomics.wait`, a long synchronous loop) thus
 * delays the wake-up of a parked server until it yields; the server's heartbeat also checks the
 * ring, so the delay is at most one heartbeat (200 ms by default). A spinning server sees the
 * message at once.
 */
export class ShmClient extends Client {
  private readonly memory: ShmMemory;
  private readonly name: Uint8Array;
  private readonly channel: string;
  private readonly peerTimeoutMs: number;
  private ring: Ring | null = null;
  private u8: Uint8Array | null = null;
  private dv: DataView | null = null;
  private wakePending = false;
  private readonly flushWake = (): void => {
    this.wakePending = false;
    this.ring?.wake();
  };

  /**
   * @param channel - the channel to send to; it may be bound later (sends resolve `EAGAIN` or wait until then)
   * @param options - peer timeout
   */
  constructor(channel: string, options: ShmClientOptions = {}) {
    super();
    this.memory = transportMemory();
    this.channel = channel;
    this.name = ChannelDirectory.encodeName(channel);
    this.peerTimeoutMs = options.peerTimeoutMs ?? 5000;
  }

  /** The channel this client sends to. */
  getChannel(): string {
    return this.channel;
  }

  protected transmit(msg: OutgoingMessage, spec: WaitSpec): Promise<number> | number {
    const ring = this.ring ?? this.resolve();
    if (ring !== null && ring.state === RING_OPEN) {
      const rc = this.tryPublish(ring, msg);
      if (rc !== EAGAIN || spec.deadline === 0) return rc;
    } else if (spec.deadline === 0) {
      return ring !== null && ring.state === RING_DEAD ? ECONNRESET : EAGAIN;
    }
    return this.transmitWaiting(msg, spec);
  }

  private async transmitWaiting(msg: OutgoingMessage, spec: WaitSpec): Promise<number> {
    // Atomics.waitAsync alone does not keep the event loop alive; a waiting send must.
    const keepAlive = setInterval(noop, MAX_PARK_MS * 1000);
    try {
      return await this.waitAndPublish(msg, spec);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async waitAndPublish(msg: OutgoingMessage, spec: WaitSpec): Promise<number> {
    let lastBeat = -1;
    let beatSince = performance.now();
    for (;;) {
      const ring = this.ring ?? this.resolve();
      if (ring === null) {
        const r = await raceWait(channelDirectory(this.memory).waitForChange(Math.min(remainingMs(spec), MAX_PARK_MS)), spec, this.closeController.signal);
        if (typeof r === 'number') return r;
        if (remainingMs(spec) === 0) return ETIMEDOUT;
        continue;
      }
      const state = ring.state;
      if (state === RING_DEAD) return ECONNRESET;
      if (state === RING_OPEN) {
        const rc = this.tryPublish(ring, msg);
        if (rc !== EAGAIN) return rc;
        const beat = ring.heartbeat;
        if (beat !== lastBeat) {
          lastBeat = beat;
          beatSince = performance.now();
        } else if (performance.now() - beatSince > this.peerTimeoutMs) {
          return ECONNRESET;
        }
      }
      if (remainingMs(spec) === 0) return ETIMEDOUT;
      const r = await raceWait(ring.waitForSpace(Math.min(remainingMs(spec), MAX_PARK_MS)), spec, this.closeController.signal);
      if (typeof r === 'number') return r;
    }
  }

  private resolve(): Ring | null {
    const ptr = channelDirectory(this.memory).lookup(this.name);
    if (ptr === null) return null;
    const ring = ringAt(this.memory, ptr);
    this.ring = ring;
    this.u8 = new Uint8Array(ring.buffer);
    this.dv = new DataView(ring.buffer);
    return ring;
  }

  /** Publishes `msg` if a slot is free: 0, `EAGAIN` when full, `ENOMEM` when no block for a large envelope. */
  private tryPublish(ring: Ring, msg: OutgoingMessage): number {
    const u8 = this.u8 as Uint8Array;
    const dv = this.dv as DataView;
    const size = envelopeBytes(msg);
    if (size + SLOT_PREFIX_BYTES <= ring.payloadBytes) {
      const off = ring.claim();
      if (off < 0) return EAGAIN;
      dv.setUint32(off, TAG_INLINE, true);
      writeEnvelope(u8, dv, off + SLOT_PREFIX_BYTES, msg, threadId);
      this.publish(ring, size + SLOT_PREFIX_BYTES);
      return 0;
    }
    // Check for room before staging a large envelope, so a full ring costs no copy.
    if (!ring.hasSpace()) return EAGAIN;
    const block = this.memory.allocate(size);
    if (block === null) return ENOMEM;
    const region = regionOf(this.memory, block);
    const bu8 = region === ring.buffer ? u8 : new Uint8Array(region);
    const bdv = region === ring.buffer ? dv : new DataView(region);
    writeEnvelope(bu8, bdv, block.off, msg, threadId);
    const off = ring.claim();
    if (off < 0) {
      this.memory.free(block);
      return EAGAIN;
    }
    writeBlockRef(dv, off, block, size);
    this.publish(ring, SLOT_BLOCK_REF_BYTES);
    return 0;
  }

  private publish(ring: Ring, length: number): void {
    // Defer the doorbell to the end of this burst of synchronous sends: one notify for many.
    ring.publish(ring.claimed, length, false);
    if (!this.wakePending) {
      this.wakePending = true;
      queueMicrotask(this.flushWake);
    }
  }

  /** A no-wait send over shared memory never awaits. */
  protected override get transmitsSynchronously(): boolean {
    return true;
  }

  protected async shutdown(): Promise<void> {
    if (this.wakePending) this.flushWake();
  }
}

function writeBlockRef(dv: DataView, off: number, block: Pointer, length: number): void {
  dv.setUint32(off, TAG_BLOCK, true);
  dv.setInt32(off + 8, block.allocId.major, true);
  dv.setInt32(off + 12, block.allocId.minor, true);
  dv.setFloat64(off + 16, block.off, true);
  dv.setUint32(off + 24, length, true);
}
