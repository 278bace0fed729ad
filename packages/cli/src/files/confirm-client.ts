/**
 * The sender's end of the reply path (confirm-protocol.ts): a DEALER that asks the receiver to
 * watch a transfer, then collects the confirmation of every file.
 */
import { Dealer } from 'zeromq';
import { CliError } from '../common/cli-error.js';
import type { ConfirmEvent } from './confirm-protocol.js';
import { MAX_CONFIRM_FRAME_BYTES, TRANSFER_PATH, decodeEvent, encodeConfirm } from './confirm-protocol.js';
import type { CurveClientKeys } from '../common/curve-options.js';
import { curveClientSocketOptions } from '../common/curve-options.js';

/** Events queued for us inside ZeroMQ (ZMQ_RCVHWM): one per file of the transfer, and a few more. */
const RECEIVE_HIGH_WATER_MARK = 100_000;

/** Collects a receiver's confirmations for one transfer. */
export class ConfirmClient {
  private constructor(
    private readonly dealer: Dealer,
    private readonly where: string,
    private readonly transferId: string,
  ) {}

  /**
   * Connects to the receiver's reply path and waits until it watches `transferId`.
   *
   * @param host - the receiver's host
   * @param port - its reply port
   * @param transferId - the transfer about to be sent
   * @param timeoutMs - how long to wait for the receiver's answer
   * @param curve - the receiver's public key and our pair, when the data path uses CURVE
   * @param messageBytes - the most data one message of the transfer carries (the receiver refuses
   * the transfer at once when that is above its bound)
   * @throws CliError when no `lightbeam recv` answers in time, or it refuses the transfer
   */
  static async watch(
    host: string,
    port: number,
    transferId: string,
    timeoutMs: number,
    curve?: Required<CurveClientKeys>,
    messageBytes?: number,
  ): Promise<ConfirmClient> {
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const dealer = new Dealer({
      linger: 0,
      maxMessageSize: MAX_CONFIRM_FRAME_BYTES,
      receiveHighWaterMark: RECEIVE_HIGH_WATER_MARK,
      sendTimeout: timeoutMs,
      ...(curve === undefined ? {} : curveClientSocketOptions(curve)),
    });
    const client = new ConfirmClient(dealer, where, transferId);
    try {
      dealer.connect(`tcp://${where}`);
      await dealer.send(encodeConfirm(messageBytes === undefined ? { op: 'watch', transferId } : { op: 'watch', transferId, messageBytes }));
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const e = await client.next(Math.max(1, deadline - performance.now()));
        if (e?.event === 'watching') return client;
        if (e?.event === 'refused' && e.path === TRANSFER_PATH) throw new CliError(`the receiver at ${where} refused the transfer before any data left: ${e.reason}`);
        if (e === null) {
          throw new CliError(
            `no answer on the reply path at ${where} within ${timeoutMs} ms (is "lightbeam recv" listening there, with the same CURVE keys? ` +
              '--no-confirm sends without confirmation)',
          );
        }
      }
    } catch (err) {
      dealer.close();
      throw err instanceof CliError ? err : new CliError(`reply path to ${where}: ${(err as Error).message}`);
    }
  }

  /**
   * Waits until the receiver confirmed every file with the SHA-256 we sent. A refused file does
   * not end the wait: the others are still confirmed or refused, so the error names every refusal.
   *
   * @param expected - relative path → SHA-256 hex of every file sent
   * @param timeoutMs - longest silence of the receiver before giving up
   * @throws CliError naming the refused files (all, or a count and the first few) or the first
   *   mismatched one, or how many were confirmed
   */
  async confirmAll(expected: ReadonlyMap<string, string>, timeoutMs: number): Promise<void> {
    const confirmed = new Set<string>();
    const refused = new Map<string, string>();
    // Refusals of a whole message (`(message)`) name no file: the wait goes on until `done`.
    let refusedFiles = 0;
    while (confirmed.size + refusedFiles < expected.size) {
      const e = await this.next(timeoutMs);
      if (e === null) {
        if (refused.size > 0) throw new CliError(refusedLine(refused, expected.size));
        throw new CliError(
          `no confirmation from the receiver at ${this.where} within ${timeoutMs} ms: ${confirmed.size} of ${expected.size} files confirmed (was it stopped?)`,
        );
      }
      if (e.event === 'file') {
        const want = expected.get(e.path);
        if (want === undefined) continue;
        if (e.sha256 !== want) throw new CliError(`the receiver confirmed ${e.path} with SHA-256 ${e.sha256}, but ${want} was sent`);
        confirmed.add(e.path);
      } else if (e.event === 'refused') {
        if (refused.has(e.path)) continue;
        refused.set(e.path, e.reason);
        if (expected.has(e.path)) refusedFiles++;
      } else if (e.event === 'done') {
        if (refused.size > 0) throw new CliError(refusedLine(refused, expected.size));
        const why = e.abandoned === undefined ? '' : `: ${e.abandoned}`;
        throw new CliError(`the receiver ended the transfer with ${confirmed.size} of ${expected.size} files confirmed${why}`);
      }
    }
    if (refused.size > 0) throw new CliError(refusedLine(refused, expected.size));
  }

  /** Closes the socket. */
  close(): void {
    this.dealer.close();
  }

  /** The next event of our transfer, or `null` after `timeoutMs` without one. */
  private async next(timeoutMs: number): Promise<ConfirmEvent | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return null;
      this.dealer.receiveTimeout = Math.ceil(left);
      let frames: Buffer[];
      try {
        frames = await this.dealer.receive();
      } catch (err) {
        // EAGAIN: our receive timeout, or a spurious wake-up; the deadline above tells which.
        if ((err as { code?: string }).code === 'EAGAIN') continue;
        throw err;
      }
      const e = frames.length === 1 ? decodeEvent(frames[0]) : null;
      if (e !== null && e.transferId === this.transferId) return e;
    }
  }
}

/** Names shown in full when files are refused; beyond it, a count. */
const REFUSED_NAMES_SHOWN = 10;

/** One line for the refusals of a transfer: every name (or the first few and a count), and the first reason. */
function refusedLine(refused: ReadonlyMap<string, string>, files: number): string {
  const [[firstPath, firstReason]] = refused;
  // Most reasons already read "refused <name>: why"; don't say it twice.
  const first = firstReason.startsWith('refused ') ? firstReason : `refused ${firstPath}: ${firstReason}`;
  if (refused.size === 1) return `the receiver ${first}`;
  const names = [...refused.keys()];
  const shown = names.slice(0, REFUSED_NAMES_SHOWN).join(', ');
  const more = names.length > REFUSED_NAMES_SHOWN ? ` and ${names.length - REFUSED_NAMES_SHOWN} more` : '';
  const distinct = new Set([...refused.values()].map((r) => r.replace(/"(?:[^"\\]|\\.)*"/g, '"…"'))).size;
  const others = distinct > 1 ? ` (${distinct - 1} other reason(s): see the receiver's output)` : '';
  return `the receiver refused ${refused.size} of ${files} files: ${shown}${more}; the first: ${first}${others}`;
}
