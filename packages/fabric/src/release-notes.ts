/**
 * The server's release notes: which messages' exposed bulks a client may free. The releases of
 * one event-loop turn go out after it as one note per run of consecutive messages of a client;
 * while other `recvBulks` still wait on reads, a turn's releases wait for theirs (at most
 * {@link RELEASE_HOLD_MS}), so reads in flight together are released together however their
 * completions are spread over turns.
 */
import { EAGAIN } from '@lightbeam/core';
import type { FabricEndpoint } from './fabric-endpoint.js';
import { encodeRelease } from './wire.js';

/** Longest a release waits for those of reads still in flight, to share their note (ms). */
export const RELEASE_HOLD_MS = 5;

/** Batches a server's releases into notes and sends them (and other small notes) to clients. */
export class ReleaseNotes {
  /** Notes sent. */
  sent = 0;
  /** `recvBulks` calls waiting on reads now (their releases are due soon). */
  readsPending = 0;
  /** Releases not yet sent, by client. */
  private readonly releases = new Map<number, number[]>();
  private queued = false;
  private since = 0;

  /**
   * @param ep - the server's endpoint
   * @param peerOf - a client's `fi_addr`, if known
   * @param closed - whether the server is closed
   */
  constructor(
    private readonly ep: FabricEndpoint,
    private readonly peerOf: (clientId: number) => number | undefined,
    private readonly closed: () => boolean,
  ) {}

  /** Message `seq` of `clientId` is done with: its release goes out with the next note. */
  add(clientId: number, seq: number): void {
    let seqs = this.releases.get(clientId);
    if (seqs === undefined) this.releases.set(clientId, (seqs = []));
    seqs.push(seq);
    if (!this.queued) {
      this.queued = true;
      this.since = performance.now();
      setImmediate(this.flush);
    }
  }

  /** Sends what is gathered now (the server is closing). */
  flushNow(): void {
    if (this.queued) {
      this.readsPending = 0;
      this.flush();
    }
  }

  /**
   * Sends `note` to `peer`, retrying after progress while the provider says EAGAIN. Bounded: a
   * note the provider cannot take within a second is dropped (the sender frees the bulks when it
   * closes).
   */
  sendNote(note: Uint8Array, peer: number): void {
    if (this.ep.send(note, false, 0, 0, peer) === EAGAIN) void this.later(note, peer);
  }

  private async later(note: Uint8Array, peer: number): Promise<void> {
    for (let i = 0; i < 1000 && !this.closed(); i++) {
      await this.ep.progress(1);
      if (this.ep.send(note, false, 0, 0, peer) !== EAGAIN) return;
    }
  }

  private readonly flush = (): void => {
    if (this.readsPending > 0 && !this.closed() && performance.now() - this.since < RELEASE_HOLD_MS) {
      setImmediate(this.flush);
      return;
    }
    this.queued = false;
    const all = [...this.releases];
    this.releases.clear();
    if (this.closed()) return;
    for (const [clientId, seqs] of all) {
      const peer = this.peerOf(clientId);
      if (peer === undefined) continue;
      seqs.sort((a, b) => a - b);
      for (let i = 0; i < seqs.length; ) {
        let n = 1;
        while (i + n < seqs.length && seqs[i + n] === seqs[i] + n && n < 0xffff) n++;
        this.sent++;
        this.sendNote(encodeRelease(clientId, seqs[i], n), peer);
        i += n;
      }
    }
  };
}
