// A settlement process for the crash tests: drains the ledger's queue into
// the contract and exits 0. With CRASH_AT=<journal state> it kills itself
// with SIGKILL right after the CRASH_NTH-th journal write of that state (the
// write is committed; nothing after it happens) — a crash at that exact point.
// CRASH_AT=sent kills it after a transaction was sent, before the journal says so.
import { openLedger } from '../../ledger/ledger.js';
import { Submitter } from '../../settlement/submitter.js';
import type { Address, Hex } from 'viem';

const [, , ledgerPath, rpcUrl, contract, key] = process.argv;
const crashAt = process.env.CRASH_AT;
let nth = Number(process.env.CRASH_NTH ?? 1);
const ledger = openLedger(ledgerPath!);
function crash(at: string): void {
  process.stdout.write(`CRASH ${at}\n`);
  process.kill(process.pid, 'SIGKILL');
}
const sub = new Submitter({
  ledger,
  rpcUrl: rpcUrl!,
  chainId: 31337,
  privateKey: key as Hex,
  contract: contract as Address,
  pollMs: 20,
  gasFraction: 0.01,
  ...(process.env.STUCK_AFTER_MS ? { stuckAfterMs: Number(process.env.STUCK_AFTER_MS) } : {}),
  onJournal: (row) => {
    if (row.state === crashAt && --nth === 0) crash(`${row.action}:${row.chunk}:${row.state}`);
  },
  // "sent": the transaction is out, the journal still says signed
  onSent: (row) => {
    if (crashAt === 'sent' && --nth === 0) crash(`${row.action}:${row.chunk}:sent`);
  },
});
await sub.drain(60_000);
process.stdout.write('DRAINED\n');
ledger.close();
