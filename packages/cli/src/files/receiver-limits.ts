/**
 * The bounds `lightbeam recv` keeps on what senders can make it hold: data per message, files
 * being written at once (each an open file handle and a `.lbpart` file), transfers in progress,
 * and how long a transfer may stay silent.
 */

/** Default bound of the data one message may carry before it is refused unread. */
export const DEFAULT_RECV_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Default {@link ReceiverLimits.maxOpenFiles}. */
export const DEFAULT_MAX_OPEN_FILES = 64;
/** Default {@link ReceiverLimits.maxTransfers}. */
export const DEFAULT_MAX_TRANSFERS = 16;
/** Default {@link ReceiverLimits.idleMs}. */
export const DEFAULT_TRANSFER_IDLE_MS = 120_000;
/** Refusals kept per transfer report; later ones are still printed, and counted. */
export const MAX_REFUSALS_KEPT = 1000;

/** Bounds of a {@link FileReceiver}. */
export interface ReceiverLimits {
  /**
   * Messages carrying more data are refused without reading their data.
   * @defaultValue 268435456 (256 MiB)
   */
  maxMessageBytes: number;
  /**
   * Files being written at once, over every transfer (each holds a file handle and a `.lbpart`
   * file until its last piece arrives). At the bound the transfer silent the longest is
   * abandoned; a file that still finds no room is refused.
   * @defaultValue 64
   */
  maxOpenFiles: number;
  /**
   * Transfers in progress at once; a new one abandons the transfer silent the longest.
   * @defaultValue 16
   */
  maxTransfers: number;
  /**
   * A transfer with no message for this long is abandoned: its partial files are closed and
   * removed, and its report says so.
   * @defaultValue 120000
   */
  idleMs: number;
}

/**
 * Fills in the defaults of the limits not given.
 *
 * @param partial - the limits to override
 * @throws RangeError naming a limit that is not a positive integer
 */
export function resolveReceiverLimits(partial: Partial<ReceiverLimits> = {}): ReceiverLimits {
  const out: ReceiverLimits = {
    maxMessageBytes: partial.maxMessageBytes ?? DEFAULT_RECV_MESSAGE_BYTES,
    maxOpenFiles: partial.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES,
    maxTransfers: partial.maxTransfers ?? DEFAULT_MAX_TRANSFERS,
    idleMs: partial.idleMs ?? DEFAULT_TRANSFER_IDLE_MS,
  };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`receiver limit ${k} must be a positive integer, got ${v}`);
  }
  return out;
}
