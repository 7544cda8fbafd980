/**
 * The in-process API of settlement, for the composition root (app/start.ts):
 *
 *   const chain = await connectChain(config, dataDir);          // embedded anvil or the configured RPC
 *   const submitter = new Submitter({ ledger, rpcUrl: chain.rpcUrl, chainId: chain.chainId,
 *     privateKey: chain.privateKey, contract: chain.contract, confirmations: chain.confirmations,
 *     stuckAfterMs: config.chain.stuckAfterSeconds * 1000, feeBumpPercent: config.chain.feeBumpPercent, events });
 *   void submitter.run();
 *   // each metered interval:
 *   const { statements, credits } = settleInterval(ledger, start, config);
 *   submitter.enqueue(start);
 *   // shutdown:
 *   await submitter.stop(); await chain.stop();
 */
export { settleInterval, type SettleConfig, type SettleIntervalReturnType } from './settle.js';
export { Submitter, type SubmitterOptions } from './submitter.js';
export { connectChain, type ChainConnection } from './chain/connect.js';
export { startEmbeddedChain, type EmbeddedChain, type StartEmbeddedChainOptions } from './chain/embedded.js';
export { deployOrLoad, type Deployment, type DeployOrLoadParameters } from './chain/deploy-or-load.js';
export { statementsToCsv, statementsToJson, type Statement } from './statements.js';
export { participantAccount, derivedAccount } from './accounts.js';
export { CHAINS, chainSettings } from './chain/chains.js';
