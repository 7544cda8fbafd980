import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeErrorResult,
  HttpRequestError,
  InvalidInputRpcError,
  RawContractError,
  RpcRequestError,
  TimeoutError,
} from 'viem';
import { loadArtifact } from '../../contracts/artifact.js';
import { classifyChainError, isTransportError, toChainError } from '../../settlement/chain-errors.js';

const abi = loadArtifact('EnergyCredits').abi;
const url = 'http://127.0.0.1:8545';
const HASH = `0x${'ab'.repeat(32)}` as const;

/** What eth_sendRawTransaction's failure looks like when the node refuses: an RPC error with the node's words. */
const nodeSaid = (message: string) =>
  new InvalidInputRpcError(new RpcRequestError({ body: {}, error: { code: -32000, message }, url }));

describe('chain errors, classified by viem class', () => {
  it('a connection refused is "unavailable", and its cause names the socket error', () => {
    const err = new HttpRequestError({
      url,
      cause: new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8545') }),
    });
    const f = classifyChainError(new BaseError('getChainId failed', { cause: err }), abi);
    assert.equal(f.kind, 'unavailable');
    assert.match(f.cause, /HTTP request failed.*ECONNREFUSED 127\.0\.0\.1:8545/);
    assert.equal(isTransportError(new TimeoutError({ body: {}, url })), true);
    assert.equal(isTransportError(new Error('socket hang up')), false, 'only viem says what a transport failure is');
  });

  it('a revert decoded by the call names the custom error and its arguments', () => {
    const data = encodeErrorResult({ abi, errorName: 'Conflict', args: [1_800_000_000n, HASH, HASH] });
    const f = classifyChainError(
      new BaseError('simulation failed', {
        cause: new ContractFunctionRevertedError({ abi, data, functionName: 'commit' }),
      }),
      abi,
    );
    assert.deepEqual(f.kind === 'revert' && [f.reason, f.args], ['Conflict', [1_800_000_000n, HASH, HASH]]);
    assert.equal(f.cause, `Conflict(1800000000, ${HASH}, ${HASH})`);
  });

  it('raw revert data (a call made without the ABI) is decoded with decodeErrorResult', () => {
    const data = encodeErrorResult({ abi, errorName: 'ChunkAlreadyMinted', args: [1_800_000_000n, 2] });
    const f = classifyChainError(new BaseError('estimateGas failed', { cause: new RawContractError({ data }) }), abi);
    assert.deepEqual(f.kind === 'revert' && [f.reason, f.args], ['ChunkAlreadyMinted', [1_800_000_000n, 2]]);
    const unknown = classifyChainError(
      new BaseError('estimateGas failed', { cause: new RawContractError({ data: '0xdeadbeef' }) }),
      abi,
    );
    assert.deepEqual(unknown.kind === 'revert' && unknown.reason, 'reverted');
    assert.match(unknown.cause, /0xdeadbeef/);
  });

  it("the node's refusals of a raw transaction: nonce used (viem folds 'already known' in), underpriced, no funds", () => {
    assert.equal(classifyChainError(nodeSaid('nonce too low'), abi).kind, 'nonce-used');
    assert.equal(classifyChainError(nodeSaid('already known'), abi).kind, 'nonce-used');
    assert.equal(classifyChainError(nodeSaid('replacement transaction underpriced'), abi).kind, 'underpriced');
    assert.equal(classifyChainError(nodeSaid('insufficient funds for gas * price + value'), abi).kind, 'funds');
    const other = classifyChainError(nodeSaid('the node is syncing'), abi);
    assert.equal(other.kind, 'other');
    assert.match(other.cause, /the node is syncing/);
  });

  it('toChainError: CHAIN_UNAVAILABLE for no answer, CHAIN_REJECTED with the short cause for a refusal', () => {
    assert.equal(toChainError(new TimeoutError({ body: {}, url }), url, abi).code, 'CHAIN_UNAVAILABLE');
    const rejected = toChainError(nodeSaid('the node is syncing'), url, abi);
    assert.equal(rejected.code, 'CHAIN_REJECTED');
    assert.match(rejected.message, /refused a settlement call: .*the node is syncing/);
    assert.doesNotMatch(rejected.message, /Version: viem|\n/, 'one line, without the request dump');
  });
});
