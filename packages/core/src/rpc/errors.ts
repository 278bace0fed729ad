/**
 * How RPC outcomes become `LightbeamError`s: reply statuses from the server, and the transport's
 * return codes met while sending a request.
 */
import type { LightbeamErrorCode } from '../protocol/lightbeam-error.js';
import { LightbeamError } from '../protocol/lightbeam-error.js';
import { RpcStatus } from './envelope.js';
import { ECANCELED, ECONNRESET, ESHUTDOWN, ETIMEDOUT, strerror } from '../protocol/return-codes.js';

const STATUS_CODES: Readonly<Record<number, LightbeamErrorCode>> = {
  [RpcStatus.HANDLER_FAILED]: 'ERR_LBM_RPC_HANDLER',
  [RpcStatus.NO_METHOD]: 'ERR_LBM_RPC_NO_METHOD',
  [RpcStatus.OVERLOADED]: 'ERR_LBM_RPC_OVERLOADED',
  [RpcStatus.BAD_REQUEST]: 'ERR_LBM_RPC_BAD_REQUEST',
  [RpcStatus.SHUTDOWN]: 'ERR_LBM_RPC_SHUTDOWN',
};

/**
 * The error a caller sees for a reply whose status is not OK. An unknown status (a newer or
 * hostile peer) is reported as a handler failure naming the number.
 *
 * @param method - the called name
 * @param status - the reply's status
 * @param text - the reply's error text
 */
export function statusError(method: string, status: number, text: string): LightbeamError {
  const code = STATUS_CODES[status] ?? 'ERR_LBM_RPC_HANDLER';
  const known = STATUS_CODES[status] !== undefined;
  return new LightbeamError(code, `rpc ${method}: ${text === '' ? code : text}${known ? '' : ` (unknown status ${status})`}`);
}

/**
 * The error for a call that ended on the caller's side with return code `rc`: a timeout, an
 * abort, a close, a lost peer, or a failed send.
 *
 * @param method - the called name
 * @param rc - the return code
 * @param what - what was being done (`sending the request`, `waiting for the reply`)
 */
export function callError(method: string, rc: number, what: string): LightbeamError {
  const code: LightbeamErrorCode =
    rc === ETIMEDOUT
      ? 'ERR_LBM_RPC_TIMEOUT'
      : rc === ECANCELED
        ? 'ERR_LBM_RPC_CANCELED'
        : rc === ESHUTDOWN
          ? 'ERR_LBM_CLOSED'
          : rc === ECONNRESET
            ? 'ERR_LBM_RPC_PEER_LOST'
            : 'ERR_LBM_RPC_SEND';
  return new LightbeamError(code, `rpc ${method}: ${what}: ${strerror(rc)}`, { errno: rc });
}
