/**
 * CURVE for `lightbeam send` and `lightbeam recv`: the options as typed, their checks, and the
 * socket options they become. Keys are Z85 strings (40 characters), as zeromq.js `curveKeyPair()`
 * makes them and `lightbeam curve-keypair` prints them.
 */
import { isZ85Key } from '@lightbeam/zmq-bridge';
import { UsageError } from './cli-error.js';

/** A receiver's keys: its own pair and, optionally, the senders it admits. */
export interface CurveServerKeys {
  /** The receiver's secret key. */
  secretKey: string;
  /** The receiver's public key (senders name it with `--curve-server-key`). */
  publicKey: string;
  /** Public keys of the senders admitted; without it every sender that knows `publicKey` is. */
  allowedClients?: string[];
  /** ZAP domain of the allow-list, set once it is registered (see `registerCurveAllowList`). */
  zapDomain?: string;
}

/** A sender's keys: the receiver's public key and, optionally, its own pair. */
export interface CurveClientKeys {
  /** The receiver's public key. */
  serverKey: string;
  /** The sender's public key (what the receiver's allow-list names); made up when omitted. */
  publicKey?: string;
  /** The sender's secret key. */
  secretKey?: string;
}

function key(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isZ85Key(value)) throw new UsageError(`${option} must be a 40-character Z85 key, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Checks the receiver's CURVE options.
 *
 * @param o - as typed
 * @returns the keys, or `undefined` without CURVE
 * @throws UsageError naming the option and the value
 */
export function parseServerCurve(o: { curveSecretKey?: string; curvePublicKey?: string; curveAllow?: string[] }): CurveServerKeys | undefined {
  const secretKey = key('--curve-secret-key', o.curveSecretKey);
  const publicKey = key('--curve-public-key', o.curvePublicKey);
  const allow = (o.curveAllow ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (secretKey === undefined && publicKey === undefined) {
    if (allow.length > 0) throw new UsageError('--curve-allow needs --curve-secret-key and --curve-public-key');
    return undefined;
  }
  if (secretKey === undefined || publicKey === undefined) throw new UsageError('CURVE needs both --curve-secret-key and --curve-public-key');
  allow.forEach((k) => key('--curve-allow', k));
  return allow.length === 0 ? { secretKey, publicKey } : { secretKey, publicKey, allowedClients: allow };
}

/**
 * Checks the sender's CURVE options.
 *
 * @param o - as typed
 * @returns the keys, or `undefined` without CURVE
 * @throws UsageError naming the option and the value
 */
export function parseClientCurve(o: { curveServerKey?: string; curveSecretKey?: string; curvePublicKey?: string }): CurveClientKeys | undefined {
  const serverKey = key('--curve-server-key', o.curveServerKey);
  const secretKey = key('--curve-secret-key', o.curveSecretKey);
  const publicKey = key('--curve-public-key', o.curvePublicKey);
  if (serverKey === undefined) {
    if (secretKey !== undefined || publicKey !== undefined) throw new UsageError('--curve-secret-key and --curve-public-key need --curve-server-key');
    return undefined;
  }
  if ((secretKey === undefined) !== (publicKey === undefined)) throw new UsageError('give both --curve-secret-key and --curve-public-key, or neither');
  return secretKey === undefined ? { serverKey } : { serverKey, secretKey, publicKey };
}

/** zeromq.js options making a socket a CURVE server with `keys` (and their ZAP domain, if any). */
export function curveServerSocketOptions(keys: CurveServerKeys): Record<string, unknown> {
  const o: Record<string, unknown> = { curveServer: true, curveSecretKey: keys.secretKey, curvePublicKey: keys.publicKey };
  if (keys.zapDomain !== undefined) o.zapDomain = keys.zapDomain;
  return o;
}

/** zeromq.js options making a socket a CURVE client with `keys` and the sender's own pair. */
export function curveClientSocketOptions(keys: Required<CurveClientKeys>): Record<string, unknown> {
  return { curveServerKey: keys.serverKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey };
}
