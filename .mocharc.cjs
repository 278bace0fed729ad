// Tests are TypeScript run through tsx; workers they start load compiled dist/*.js or .mjs files.
module.exports = {
  spec: ['test/**/*.test.ts'],
  import: ['tsx'],
  reporter: './test/support/summary-reporter.cjs',
  timeout: 60000,
  exit: true,
};
