/** What the receiving side of `lightbeam recv` reports: received and refused files, transfers, events. */

/** A file received and verified. */
export interface ReceivedFile {
  /** Relative path, as sent. */
  path: string;
  /** Bytes. */
  size: number;
  /** SHA-256, hex. */
  sha256: string;
}

/** A file (or message) refused or failed, with the reason. */
export interface RefusedFile {
  /** Relative path as sent (JSON-quoted when it is not printable), or `(message)`. */
  path: string;
  /** Why. */
  reason: string;
}

/** One finished transfer (one `lightbeam send` run). */
export interface TransferReport {
  /** The sender's transfer id. */
  transferId: string;
  /** Files the sender announced. */
  announced: number;
  /** Files written and verified. */
  received: ReceivedFile[];
  /** Files refused or failed. */
  refused: RefusedFile[];
  /** Bytes written. */
  bytes: number;
  /** Refusals beyond the ones kept in `refused` (reported, but not kept). */
  refusedNotKept?: number;
  /** Why the transfer ended before its final message, if it did (idle, limits, shutdown). */
  abandoned?: string;
}

/** Callbacks of a {@link FileReceiver}. */
export interface ReceiverEvents {
  /** A file of transfer `transferId` was written and verified. */
  onFile(file: ReceivedFile, transferId: string): void;
  /** A file or message of transfer `transferId` was refused or failed. */
  onRefused(file: RefusedFile, transferId: string): void;
  /** Data arrived: bytes received so far in this transfer, and the announced total. */
  onBytes(transferId: string, bytes: number, total: number): void;
  /** A transfer ended before its final message (`report.abandoned` says why). */
  onAbandoned(report: TransferReport): void;
}
