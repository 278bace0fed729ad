/**
 * Calls a server is handling, by caller (reply address) and call id: two map levels instead of
 * one key string per call, since building `replyTo + id` for every request costs an allocation
 * and a hash of a long string on the hot path.
 */

/** A two-level map from (reply address, call id) to `T`. */
export class CallTable<T> {
  private readonly byCaller = new Map<string, Map<number, T>>();
  private count = 0;

  /** Entries in the table. */
  get size(): number {
    return this.count;
  }

  /** The entry of `(replyTo, id)`, if any. */
  get(replyTo: string, id: number): T | undefined {
    return this.byCaller.get(replyTo)?.get(id);
  }

  /** Adds an entry; false (and nothing changed) when `(replyTo, id)` is taken. */
  add(replyTo: string, id: number, value: T): boolean {
    let calls = this.byCaller.get(replyTo);
    if (calls === undefined) this.byCaller.set(replyTo, (calls = new Map()));
    else if (calls.has(id)) return false;
    calls.set(id, value);
    this.count++;
    return true;
  }

  /** Removes the entry of `(replyTo, id)`; a caller with no calls left is forgotten. */
  delete(replyTo: string, id: number): void {
    const calls = this.byCaller.get(replyTo);
    if (calls === undefined || !calls.delete(id)) return;
    this.count--;
    if (calls.size === 0) this.byCaller.delete(replyTo);
  }

  /** Every entry. */
  values(): T[] {
    const out: T[] = [];
    for (const calls of this.byCaller.values()) for (const v of calls.values()) out.push(v);
    return out;
  }
}
