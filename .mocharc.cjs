// Tests are TypeScript run through tsx; workers they start load compiled dist/*.js or .mjs files.
// No `spec` here: mocha would add it to any files named on the command line, so
// `pnpm exec mocha test/x.test.ts` could not run one file. `pnpm test` names the whole suite.
module.exports = {
  import: ['tsx'],
  // Fails the run if a crash dump (*.btr, core*) appears in the repository root or the cwd.
  require: [require('node:path').join(__dirname, 'test/support/crash-guard.mjs')],
  reporter: './test/support/summary-reporter.cjs',
  timeout: 60000,
  exit: true,
};
