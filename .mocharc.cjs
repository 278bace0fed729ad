// Tests are TypeScript run through tsx; workers they start load compiled dist/*.js or .mjs files.
// No `spec` here: mocha would add it to any files named on the command line, so
// `pnpm exec mocha test/x.test.ts` could not run one file. `pnpm test` names the whole suite.
module.exports = {
  import: ['tsx'],
  // Run before any test file: tmp-guard gives the run a private temp folder and fails it if ipc
  // sockets or Lightbeam files are left there; crash-guard fails it if a crash dump (*.btr,
  // core*) appears in the repository root or the cwd.
  require: ['./test/support/tmp-guard.cjs', require('node:path').join(__dirname, 'test/support/crash-guard.mjs')],
  reporter: './test/support/summary-reporter.cjs',
  timeout: 60000,
  exit: true,
};
