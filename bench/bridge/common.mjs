// Shared by the bridge benchmark's worker and process scripts (bench/bridge.bench.ts spawns them).
//
// Every contender speaks the same small protocol, so their numbers compare:
// - Payload: the sender writes every byte, as a real producer would (a tag derived from the
//   sequence number; this also keeps a fresh, never-written buffer's zero pages from flattering
//   whoever allocates per message), then the sequence number (u32 LE) into bytes 0..3. The
//   receiver checks the sequence number, the middle and the last byte of every message: a lost,
//   duplicated, reordered or stale (reused before it was read) message fails the run instead of
//   inflating its rate.
// - Flow control, end to end: the sender starts with no credit and keeps at most WINDOW messages
//   sent but not yet consumed by the receiving thread. The receiver grants WINDOW once it is ready
//   (which also keeps start-up out of the timing), then CREDIT_EVERY more after each CREDIT_EVERY
//   messages it has consumed. A credit is a u32 count (4 bytes).
// - Throughput is timed by the receiving thread, from the message after the first WINDOW (the
//   pipeline is full by then) to the last; round trips by the requesting thread, one sample per
//   round trip after WARMUP, reported as their p50.

/** A numeric environment variable, or `dflt`. */
export const num = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v)) throw new Error(`${name} must be a number, got ${process.env[name]}`);
  return v;
};
/** Address of process A (the sending or asking side): 127.0.0.1, or its namespace's address (netns runs). */
export const HOST_A = process.env.HOST_A ?? '127.0.0.1';
/** Address of process B (the receiving or echoing side). */
export const HOST_B = process.env.HOST_B ?? '127.0.0.1';
/** Prints one result line for the harness (it reads the JSON lines of stdout). */
export const out = (o) => console.log(JSON.stringify(o));

/** Messages of the throughput runs. */
export const COUNT = num('COUNT', 800);
/** Payload bytes of the throughput runs. */
export const SIZE = num('SIZE', 1 << 20);
/** Most messages sent and not yet consumed. */
export const WINDOW = num('WINDOW', 32);
/** Messages consumed per credit sent back. */
export const CREDIT_EVERY = num('CREDIT_EVERY', 8);
/** Timed round trips per run. */
export const ROUNDS = num('ROUNDS', 2000);
/** Untimed round trips before them. */
export const WARMUP = num('WARMUP', 200);
/** Bytes of a round-trip message. */
export const RTT_SIZE = num('RTT_SIZE', 64);
/** Longest wait for any one message or credit: a stuck run fails instead of hanging. */
export const WAIT_MS = num('WAIT_MS', 20000);

// The throughput protocol needs these: the last credit must arrive exactly when the last message
// was consumed, and timing starts after the first window.
if (COUNT % CREDIT_EVERY !== 0 || WINDOW % CREDIT_EVERY !== 0 || COUNT <= WINDOW + 1) {
  throw new Error(`COUNT (${COUNT}) and WINDOW (${WINDOW}) must be multiples of CREDIT_EVERY (${CREDIT_EVERY}), COUNT > WINDOW + 1`);
}
if (SIZE < 8 || RTT_SIZE < 8) throw new Error('SIZE and RTT_SIZE must be at least 8 bytes (sequence number + tag)');

/** The last byte of message `seq`. */
const tag = (seq) => (seq * 31 + 7) & 0xff;

/** Fills `u8[0..size)` as message `seq`: its tag everywhere, then its sequence number in front. */
export function stamp(u8, size, seq) {
  u8.fill(tag(seq), 0, size);
  u8[0] = seq & 0xff;
  u8[1] = (seq >>> 8) & 0xff;
  u8[2] = (seq >>> 16) & 0xff;
  u8[3] = (seq >>> 24) & 0xff;
  u8[size - 1] = tag(seq);
}

/** Throws unless `u8` is `size` bytes stamped for message `seq`. */
export function check(u8, size, seq, where) {
  const got = (u8[0] | (u8[1] << 8) | (u8[2] << 16) | (u8[3] << 24)) >>> 0;
  const t = tag(seq);
  if (u8.byteLength < size || got !== seq || u8[size >> 1] !== t || u8[size - 1] !== t) {
    throw new Error(`${where}: message ${seq} arrived wrong: ${u8.byteLength} bytes, sequence ${got}, middle and last byte ${u8[size >> 1]} ${u8[size - 1]} (want ${t})`);
  }
}

/** The receiving side's clock: call `consumed(i)` after message i was checked. */
export function rateClock(count = COUNT, skip = WINDOW) {
  let t0 = 0;
  let t1 = 0;
  return {
    consumed(i) {
      if (i === skip) t0 = performance.now();
      else if (i === count - 1) t1 = performance.now();
    },
    /** Messages per second between message `skip` and the last. */
    rate() {
      return ((count - 1 - skip) / (t1 - t0)) * 1000;
    },
  };
}

/** Median of a Float64Array of samples (sorted in place, numerically: it is a typed array). */
export function p50(samples) {
  samples.sort();
  return samples[samples.length >> 1];
}

/** Encodes a credit of `n` messages (4 bytes, a fresh buffer: zeromq.js may keep it). */
export function creditFrame(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** Reads a credit frame. */
export const creditOf = (u8) => (u8[0] | (u8[1] << 8) | (u8[2] << 16) | (u8[3] << 24)) >>> 0;
