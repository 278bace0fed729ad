/**
 * Act 1's notes on ties: where Lightbeam's median is within {@link TIE_BAND} of the faster
 * `postMessage`, the demo says so and says why, instead of leaving a reader to guess whether the
 * design failed there or the workload simply leaves nothing to save.
 */
import type { LocalRunResult, LocalWorkload } from './local-workload.js';
import { spreadOf } from './verdict.js';

/** A median speed-up within this factor either way is a tie. */
export const TIE_BAND = 1.1;

type ByPath = Record<'lightbeam' | 'postMessage clone' | 'postMessage transfer', LocalRunResult[]>;

/** Why a workload of this shape can tie. */
function whyTie(w: LocalWorkload, peer: string): string {
  if (w.mode === 'fan') return 'the workers spend the time reading the payload, which both paths must do; a copy per worker is small beside it at this count';
  if (peer === 'postMessage transfer' && w.size >= 64 * 1024) {
    return 'a transfer moves the buffer without copying it, as Lightbeam does, so both pay one hand-off per payload and the time goes to the transform';
  }
  return 'at this size each message costs mostly the wake-up of the thread that takes it (tens of microseconds on a busy machine), which both paths pay alike';
}

/**
 * One line per workload whose median over the runs is a tie with the faster `postMessage`
 * flavour, naming the flavour and the reason.
 *
 * @param ws - the workloads, in table order
 * @param results - each workload's runs by path
 */
export function tieNotes(ws: readonly LocalWorkload[], results: Record<string, ByPath>): string[] {
  const notes: string[] = [];
  for (const w of ws) {
    const r = results[w.name] as ByPath;
    const ours = spreadOf(r.lightbeam.map((x) => x.ms)).median;
    const clone = spreadOf(r['postMessage clone'].map((x) => x.ms)).median;
    const transfer = spreadOf(r['postMessage transfer'].map((x) => x.ms)).median;
    const peer = clone <= transfer ? 'postMessage clone' : 'postMessage transfer';
    const speedup = Math.min(clone, transfer) / ours;
    if (speedup < TIE_BAND && speedup > 1 / TIE_BAND) notes.push(`${w.name}: a tie with ${peer} (${speedup.toFixed(2)}x): ${whyTie(w, peer)}.`);
  }
  return notes;
}
