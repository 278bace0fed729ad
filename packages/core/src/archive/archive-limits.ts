/**
 * Limits applied while decoding untrusted metadata, checked before anything is allocated.
 */

/** Decoding limits; every count, size and length from the wire is checked against them. */
export interface ArchiveLimits {
  /**
   * Most bulks in one `send` or `recv` vector.
   * @defaultValue 65536
   */
  maxBulks: number;
  /**
   * Largest bulk size a descriptor may claim, in bytes; never above 2^53 - 1.
   * @defaultValue Number.MAX_SAFE_INTEGER
   */
  maxBulkSize: number;
  /**
   * Longest string or byte array, in bytes.
   * @defaultValue 16 MiB
   */
  maxStringBytes: number;
  /**
   * Most elements in one custom vector.
   * @defaultValue 16777216
   */
  maxVectorLength: number;
  /**
   * Deepest nesting of vectors and structs.
   * @defaultValue 64
   */
  maxDepth: number;
}

/** The defaults of {@link ArchiveLimits}. */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxBulks: 65536,
  maxBulkSize: Number.MAX_SAFE_INTEGER,
  maxStringBytes: 16 * 1024 * 1024,
  maxVectorLength: 1 << 24,
  maxDepth: 64,
});

/**
 * Fills in defaults for the limits not given.
 *
 * @param partial - the limits to override
 */
export function resolveLimits(partial?: Partial<ArchiveLimits>): ArchiveLimits {
  return partial === undefined ? DEFAULT_ARCHIVE_LIMITS : { ...DEFAULT_ARCHIVE_LIMITS, ...partial };
}
