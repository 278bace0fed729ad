/**
 * The `bridge` subcommand's raw options, shared by its definition (bridge-command.ts) and the
 * code that runs a bridge from them (bridge-run.ts).
 */
import { parseIntOption } from '../common/cli-error.js';

/** Raw options as Commander hands them over. */
export interface BridgeCliOpts {
  listen?: string;
  peer?: string;
  channels?: string;
  defaultChannel?: string;
  acceptChannels?: string;
  worker?: string[];
  curveSecretKey?: string;
  curvePublicKey?: string;
  curveServerKey?: string;
  curveAllow?: string[];
  hwm?: string;
  sendTimeoutMs?: string;
  deliverTimeoutMs?: string;
  drainMs?: string;
  maxMessageBytes?: string;
  regionMib: string;
  exitWithWorkers: boolean;
}

/** Parses an optional integer option. */
export function optionalInt(name: string, text: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return text === undefined ? undefined : parseIntOption(name, text, min, max);
}
