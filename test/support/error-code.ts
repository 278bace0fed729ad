/**
 * The `code` of the error a call throws, for tests that check which misuse was reported.
 */
import type { LightbeamError } from '@lightbeam/core';

/**
 * Runs `f` and returns the `code` of what it threw, or `'no error'`.
 *
 * @param f - the call expected to throw
 */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as LightbeamError).code;
  }
  return 'no error';
}
