export { BENCH_OUT_ENV, QUICK_ENV, QUICK_ENV_DEFAULT, SUITE_SUFFIX, listSuites, runBench } from './bench-runner.js';
export type { BenchReport, RunBenchOptions } from './bench-runner.js';
export { CliError, EXIT_FAILURE, EXIT_USAGE, UsageError, oneLine, parseIntOption } from './cli-error.js';
export type { SubcommandModule } from './commands/subcommand.js';
export { sha256File, toHex } from './file-hash.js';
export { FileBatchMeta, FileEntry, SHA256_BYTES } from './file-meta.js';
export { FileReceiver } from './file-receiver.js';
export {
  DEFAULT_MAX_OPEN_FILES,
  DEFAULT_MAX_TRANSFERS,
  DEFAULT_RECV_MESSAGE_BYTES,
  DEFAULT_TRANSFER_IDLE_MS,
  MAX_REFUSALS_KEPT,
  resolveReceiverLimits,
} from './receiver-limits.js';
export type { ReceiverLimits } from './receiver-limits.js';
export type { CurveClientKeys, CurveServerKeys } from './curve-options.js';
export type { ReceivedFile, ReceiverEvents, RefusedFile, TransferReport } from './file-receiver.js';
export type { OverwritePolicy } from './no-clobber.js';
export { walkSources } from './file-walk.js';
export type { WalkedSources } from './file-walk.js';
export type { SkippedPath, SourceFile } from './file-walk.js';
export type { HostPort } from './host-port.js';
export { formatHostPort, parseHostPort, toZmqUrl } from './host-port.js';
export type { HostPortParseOptions } from './host-port.js';
export { SUBCOMMANDS, VERSION, createProgram } from './program.js';
export type { Progress } from './progress.js';
export { createProgress, formatBytes } from './progress.js';
export { probeTcp } from './reachability.js';
export { receiveFiles } from './recv-files.js';
export type { ReceiveFilesOptions } from './recv-files.js';
export { MAX_RELATIVE_PATH, UnsafePathError, checkRelativePath, prepareTarget } from './safe-path.js';
export { sendFiles } from './send-files.js';
export type { SendFilesOptions, SendSummary } from './send-files.js';
export { DEFAULT_MESSAGE_BYTES, DEFAULT_MESSAGE_PIECES, planMessages } from './send-plan.js';
export type { Piece } from './send-plan.js';
export { DEMO_WORKER, REMOTE_START_TIMEOUT_MS, runDemo } from './demo.js';
export type { DemoActs, DemoOptions, DemoOutcome } from './demo.js';
export { LOCAL_PATHS, WARM_UP_PASSES, formatLocalTable, localStepKeys, runLocalAct } from './demo-local.js';
export type { LocalActOptions, LocalActOutcome, LocalPath } from './demo-local.js';
export { expectedChecksums, localWorkloads, RunTally } from './demo-local-workload.js';
export type { LocalMode, LocalRunResult, LocalWorkload } from './demo-local-workload.js';
export { EtaClock } from './demo-eta.js';
export { describeFactor, describeRange, geometricMean, parseVerdict, speedups, spreadOf, verdictSentence } from './demo-verdict.js';
export type { ParsedVerdict, RunSpread } from './demo-verdict.js';
export { DemoSteps } from './demo-steps.js';
export { RESULTS_CHANNEL, runDemoRemote } from './demo-remote.js';
export type { DemoRemoteOptions } from './demo-remote.js';
export { Verifier, PRECOMPUTE_BYTES } from './demo-verifier.js';
export type { RunExpectation, RunVerdict } from './demo-verifier.js';
export { DemoMeta, checksumPayload, fillPayload, transformPayload, sharedNowMs } from './demo-payload.js';
export { COMPARISON_ROW, SUMMARY_COLUMNS, formatSummary, renderTable, throughput } from './demo-report.js';
export type { PathResult } from './demo-report.js';
