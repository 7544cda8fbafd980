import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  ExecutionRevertedError,
  HttpRequestError,
  InsufficientFundsError,
  NonceTooLowError,
  RawContractError,
  SocketClosedError,
  TimeoutError,
  WebSocketRequestError,
  type Abi,
  type Hex,
} from 'viem';
import { getNodeError } from 'viem/utils';
import { MicrogridError, isMicrogridError } from '../core/errors.js';

/**
 * What a failed chain call means to the submitter, read from viem's error
 * classes (the cause chain, `BaseError.walk`), never from error names:
 * - `unavailable`: the RPC did not answer (HttpRequestError, TimeoutError,
 *   WebSocketRequestError, SocketClosedError): wait and try again;
 * - `revert`: the contract refused (ContractFunctionRevertedError, decoded
 *   with the contract's ABI; raw revert data is decoded with decodeErrorResult);
 * - `nonce-used`: NonceTooLowError (viem folds "already known" into it): the
 *   node has this transaction, or another one took its nonce;
 * - `underpriced`: a replacement with too small a fee bump (viem has no class:
 *   geth's and anvil's "replacement transaction underpriced", matched below);
 * - `funds`: InsufficientFundsError, the settlement key cannot pay for gas;
 * - `other`: anything else the node said.
 * `cause` is a short, one-line text for alarms and the journal.
 */
export type ChainFailure =
  | { kind: 'unavailable' | 'nonce-used' | 'underpriced' | 'funds' | 'other'; cause: string }
  | { kind: 'revert'; cause: string; reason: string; args: readonly unknown[] };

/** No viem class for it (UnknownNodeError): the node's own words. */
const UNDERPRICED = /replacement transaction underpriced|replacement fee too low/i;

export function classifyChainError(err: unknown, abi: Abi): ChainFailure {
  if (!(err instanceof BaseError))
    return { kind: 'other', cause: oneLine(err instanceof Error ? err.message : String(err)) };
  const transport = err.walk(isTransport);
  if (transport) return { kind: 'unavailable', cause: shortCause(transport) };
  const revert = revertOf(err, abi);
  if (revert) return { kind: 'revert', ...revert };
  // eth_sendRawTransaction's errors reach us as RPC errors; viem's node-error mapping names them
  const node =
    err.walk((e) => e instanceof NonceTooLowError || e instanceof InsufficientFundsError) ?? getNodeError(err, {});
  if (node instanceof NonceTooLowError) return { kind: 'nonce-used', cause: shortCause(err) };
  if (node instanceof InsufficientFundsError) return { kind: 'funds', cause: shortCause(err) };
  if (UNDERPRICED.test(err.details ?? '')) return { kind: 'underpriced', cause: shortCause(err) };
  return { kind: 'other', cause: shortCause(err) };
}

/** True when the RPC did not answer at all (as opposed to answering with an error). */
export function isTransportError(err: unknown): boolean {
  return err instanceof BaseError && err.walk(isTransport) !== null;
}

function isTransport(e: unknown): boolean {
  return (
    e instanceof HttpRequestError ||
    e instanceof TimeoutError ||
    e instanceof WebSocketRequestError ||
    e instanceof SocketClosedError
  );
}

/**
 * The custom error (or reason string) a contract call reverted with, and its arguments; undefined when it did not
 * revert.
 */
export function revertOf(
  err: BaseError,
  abi: Abi,
): { reason: string; args: readonly unknown[]; cause: string } | undefined {
  const r = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (r instanceof ContractFunctionRevertedError) {
    const reason = r.data?.errorName ?? r.reason ?? 'reverted';
    const args = r.data?.args ?? [];
    return { reason, args, cause: r.data ? describeRevert(reason, args) : oneLine(r.shortMessage) };
  }
  // a call made without the ABI (estimateGas, eth_call): raw revert data on the cause chain
  const raw = err.walk((e) => e instanceof RawContractError && typeof e.data === 'string' && e.data.length >= 10);
  const data = raw instanceof RawContractError ? (raw.data as Hex) : undefined;
  if (data) {
    try {
      const { errorName, args } = decodeErrorResult({ abi, data });
      return { reason: errorName, args: args ?? [], cause: describeRevert(errorName, args ?? []) };
    } catch {
      return {
        reason: 'reverted',
        args: [],
        cause: `reverted with data ${data.slice(0, 10)}… the contract's ABI does not know`,
      };
    }
  }
  const reverted = err.walk((e) => e instanceof ExecutionRevertedError);
  if (reverted instanceof ExecutionRevertedError) return { reason: 'reverted', args: [], cause: shortCause(reverted) };
  return undefined;
}

/** `AccessControlUnauthorizedAccount(0xf39F…, 0x9f2d…)`: the name and arguments, as an operator reads them. */
function describeRevert(name: string, args: readonly unknown[]): string {
  return `${name}(${args.map((a) => String(a)).join(', ')})`;
}

/**
 * One line for an alarm: viem's shortMessage and the node's details (the
 * full message adds request arguments, docs links and the version).
 */
export function shortCause(err: unknown): string {
  if (!(err instanceof BaseError)) return oneLine(err instanceof Error ? err.message : String(err));
  const details = err.details && !err.shortMessage.includes(err.details) ? `: ${err.details}` : '';
  // the innermost cause says what the socket saw ("connect ECONNREFUSED 127.0.0.1:8545" under "fetch failed")
  const root = err.walk();
  const rootText =
    root instanceof Error && !(root instanceof BaseError) && !details.includes(root.message)
      ? ` (${root.message})`
      : '';
  return oneLine(`${err.shortMessage.replace(/\.$/, '')}${details}${rootText}`);
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** CHAIN_UNAVAILABLE for a transport failure, else CHAIN_REJECTED; either carries the short cause and the error. */
export function toChainError(err: unknown, rpcUrl: string, abi: Abi): MicrogridError {
  if (isMicrogridError(err)) return err;
  const f = classifyChainError(err, abi);
  if (f.kind === 'unavailable')
    return new MicrogridError('CHAIN_UNAVAILABLE', `the chain does not answer (${f.cause})`, {
      field: 'chain.rpcUrl',
      value: rpcUrl,
      expected: 'a reachable EVM JSON-RPC endpoint',
      cause: err,
    });
  return new MicrogridError('CHAIN_REJECTED', `the chain refused a settlement call: ${f.cause}`, {
    field: 'chain.rpcUrl',
    value: rpcUrl,
    cause: err,
  });
}
