import type { Ledger } from '../ledger/ledger.js';
import { listJournal } from '../ledger/journal.js';
import { listSettlementCredits } from '../ledger/statements.js';
import { iso } from './http.js';

/** One account's energy credits of one interval, as GET /api/credits lists them. */
export interface CreditRow {
  interval: string;
  account: string;
  participants: string[];
  creditsWh: number;
  status: string;
  txHashes: string[];
  chainState: string | null;
}

/**
 * Energy credits per interval and account over a range, with the settlement
 * journal's transactions; `participant` keeps the accounts it shares. One
 * function for GET /api/credits and the MQTT state out.
 */
export function creditRows(ledger: Ledger, range: { from: number; to: number }, participant?: string): CreditRow[] {
  const journal = listJournal(ledger, range).filter(
    (x) => x.state !== 'replaced' && x.state !== 'reverted' && (x.action === 'mint' || x.action === 'commit'),
  );
  return listSettlementCredits(ledger, range).flatMap((s) => {
    const j = journal.filter((x) => x.intervalStart === s.intervalStart);
    const chainState = j.length === 0 ? null : j.every((x) => x.state === 'final') ? 'final' : j[j.length - 1]!.state;
    return s.credits
      .filter((c) => participant === undefined || c.participants.includes(participant))
      .map((c) => ({
        interval: iso(s.intervalStart)!,
        account: c.account,
        participants: c.participants,
        creditsWh: c.wh,
        status: s.status,
        txHashes: j.flatMap((x) => (x.txHash ? [x.txHash] : [])),
        chainState,
      }));
  });
}
