/** An echo with nothing to do for this long returns. */
export declare const IDLE_MS: number;
/** True when a spinning echo loop should return (see echo-stop.mjs). */
export declare function echoShouldStop(spins: number, every: number, stopCtl: Int32Array, idle: { idleSince: number }): boolean;
