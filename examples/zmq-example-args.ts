/**
 * Tiny command-line helper shared by the examples: `--name value` or the environment variable.
 */

/**
 * Reads an integer option from `--flag N` on the command line, else from `env`, else `dflt`.
 *
 * @param flag - e.g. `--port`
 * @param env - e.g. `LBM_PORT`
 * @param dflt - the guide's value
 */
export function intArg(flag: string, env: string, dflt: number): number {
  const i = process.argv.indexOf(flag);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[env];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new RangeError(`${flag} must be a port number, got ${raw}`);
  return n;
}

/**
 * Reads a string option from `--flag value`, else from `env`, else `dflt`.
 *
 * @param flag - e.g. `--hosts`
 * @param env - e.g. `LBM_HOSTS`
 * @param dflt - default
 */
export function strArg(flag: string, env: string, dflt: string): string {
  const i = process.argv.indexOf(flag);
  return (i >= 0 ? process.argv[i + 1] : process.env[env]) ?? dflt;
}

/**
 * Runs an example's `main`, turning a failure into a message on stderr and exit code 1.
 *
 * @param main - resolves when the example succeeded
 */
export function run(main: () => Promise<void>): void {
  main().then(
    () => {
      process.exitCode ??= 0;
    },
    (err: unknown) => {
      console.error(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
