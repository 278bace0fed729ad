export { BENCH_OUT_ENV, QUICK_ENV, QUICK_ENV_DEFAULT, SUITE_SUFFIX, listSuites, runBench } from './bench/bench-runner.js';
export type { BenchReport, RunBenchOptions } from './bench/bench-runner.js';
export { CliError, EXIT_FAILURE, EXIT_USAGE, UsageError, oneLine, parseIntOption } from './common/cli-error.js';
export type { SubcommandModule } from './commands/subcommand.js';
export { sha256File, toHex } from './files/file-hash.js';
export { FileBatchMeta, FileEntry, SHA256_BYTES } from './files/file-meta.js';
export { FileReceiver } from './files/file-receiver.js';
export {
  DEFAULT_MAX_OPEN_FILES,
  DEFAULT_MAX_TRANSFERS,
  DEFAULT_RECV_MESSAGE_BYTES,
  DEFAULT_TRANSFER_IDLE_MS,
  MAX_REFUSALS_KEPT,
  resolveReceiverLimits,
} from './files/receiver-limits.js';
export type { ReceiverLimits } from './files/receiver-limits.js';
export type { CurveClientKeys, CurveServerKeys } from './common/curve-options.js';
export type { ReceivedFile, ReceiverEvents, RefusedFile, TransferReport } from './files/receiver-types.js';
export type { OverwritePolicy } from './files/no-clobber.js';
export { walkSources } from './files/file-walk.js';
export type { WalkedSources } from './files/file-walk.js';
export type { SkippedPath, SourceFile } from './files/file-walk.js';
export type { HostPort } from './common/host-port.js';
export { formatHostPort, parseHostPort, toZmqUrl } from './common/host-port.js';
export type { HostPortParseOptions } from './common/host-port.js';
export { SUBCOMMANDS, VERSION, createProgram } from './program.js';
export type { Progress } from './common/progress.js';
export { createProgress, formatBytes } from './common/progress.js';
export { startCpuHog } from './common/cpu-hog.js';
export type { CpuHog } from './common/cpu-hog.js';
export { probeTcp } from './common/reachability.js';
export { receiveFiles } from './files/recv-files.js';
export type { ReceiveFilesOptions } from './files/recv-files.js';
export { MAX_RELATIVE_PATH, UnsafePathError, checkRelativePath, prepareTarget } from './files/safe-path.js';
export { sendFiles } from './files/send-files.js';
export type { SendFilesOptions, SendSummary } from './files/send-files.js';
export { DEFAULT_MESSAGE_BYTES, DEFAULT_MESSAGE_PIECES, planMessages } from './files/send-plan.js';
export type { Piece } from './files/send-plan.js';
export { DEMO_WORKER, REMOTE_START_TIMEOUT_MS, runDemo } from './demo/demo.js';
export type { DemoActs, DemoOptions, DemoOutcome } from './demo/demo.js';
export { LOCAL_PATHS, WARM_UP_PASSES, formatLocalTable, localStepKeys, runLocalAct } from './demo/local.js';
export type { LocalActOptions, LocalActOutcome, LocalPath } from './demo/local.js';
export { expectedChecksums, localWorkloads, RunTally } from './demo/local-workload.js';
export type { LocalMode, LocalRunResult, LocalWorkload } from './demo/local-workload.js';
export { EtaClock } from './demo/eta.js';
export { describeFactor, describeRange, geometricMean, parseVerdict, speedups, spreadOf, verdictSentence } from './demo/verdict.js';
export type { ParsedVerdict, RunSpread } from './demo/verdict.js';
export { DemoSteps } from './demo/steps.js';
export { act2Windows } from './demo/windows.js';
export type { Act2Windows } from './demo/windows.js';
export { RESULTS_CHANNEL, runDemoRemote } from './demo/remote.js';
export type { DemoRemoteOptions } from './demo/remote.js';
export { Verifier, PRECOMPUTE_BYTES } from './demo/verifier.js';
export type { RunExpectation, RunVerdict } from './demo/verifier.js';
export { DemoMeta, checksumPayload, fillPayload, transformPayload, sharedNowMs } from './demo/payload.js';
export { COMPARISON_ROW, PER_RUN_ROW, SUMMARY_COLUMNS, formatSummary, renderTable, throughput } from './demo/report.js';
export type { PathResult } from './demo/report.js';
