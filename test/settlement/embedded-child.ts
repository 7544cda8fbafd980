// An app's embedded chain for the tests: starts it on the data folder given,
// deploys (without persisting: the state file does not have it), prints
// `READY <json>` and waits to be killed — with SIGKILL, as a power cut or a
// crash would, so no handler of this process runs.
import { startEmbeddedChain } from '../../settlement/chain/embedded.js';
import { deployOrLoad } from '../../settlement/chain/deploy-or-load.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';

const [, , dataDir] = process.argv;
const chain = await startEmbeddedChain({ dataDir: dataDir! });
const { address } = await deployOrLoad({
  rpcUrl: chain.rpcUrl,
  chainId: 31337,
  privateKey: ANVIL_KEYS[0]!,
  dataDir: dataDir!,
});
process.stdout.write(`READY ${JSON.stringify({ pid: chain.pid, rpcUrl: chain.rpcUrl, address })}\n`);
setInterval(() => {}, 1 << 30);
