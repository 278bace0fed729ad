// Piscina task for bench/shm.bench.ts: returns its input (a structured-clone round trip).
export default function echo(x) {
  return x;
}
