import type { Ledger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { saveClearing } from '../../ledger/clearing.js';
import { replaceReadings } from '../../ledger/readings.js';
import { replaceIntervalEnergy } from '../../ledger/interval-energy.js';
import type { ClearingResult, Trade } from '../../core/market.js';
import { toIso } from '../../core/interval.js';

/**
 * A synthetic metered interval for the benchmark and the tests: `households`
 * participants, each with one grid meter; roughly half export, half import
 * (deterministic from `seed`). Readings at both boundaries, signed with a
 * placeholder (the meter bridge signs real ones), the interval energies, and a
 * metered ClearingResult that matches exporters to importers in order at one
 * price. Not a market model: just valid, varied input for settlement.
 */
export function seedInterval(
  ledger: Ledger,
  start: number,
  opts: { households: number; seed?: number; withAccounts?: boolean; participantsExist?: boolean },
): { exportWh: number } {
  let s = (opts.seed ?? 1) >>> 0 || 1;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const ids = Array.from({ length: opts.households }, (_, i) => `h${String(i).padStart(5, '0')}`);
  if (!opts.participantsExist) {
    for (const [i, id] of ids.entries()) {
      const account = opts.withAccounts ? `0x${(0x10000 + i).toString(16).padStart(40, 'a')}` : undefined;
      upsertParticipant(
        ledger,
        {
          id,
          name: `Household ${i}`,
          zone: 'main',
          ...(account ? { account } : {}),
          meters: [{ id: `${id}-grid`, role: 'grid' }],
          policy: {},
        },
        0,
      );
    }
  }
  const energies = ids.map((id) => {
    const exporter = rnd() < 0.5;
    const wh = 50 + Math.floor(rnd() * 1500);
    return { id, importWh: exporter ? 0 : wh, exportWh: exporter ? wh : 0 };
  });
  const end = start + 900_000;
  const gateway = '0x00000000000000000000000000000000000000aa';
  const base = 1_000_000 + Math.floor(start / 1000);
  ledger.tx(() => {
    replaceReadings(
      ledger,
      energies.flatMap((e) => {
        const meterId = `${e.id}-grid`;
        return [
          {
            meterId,
            ts: start,
            importWh: base,
            exportWh: base,
            gateway,
            signature: `0xsig-${meterId}-${start}`,
            receivedAt: start,
          },
          {
            meterId,
            ts: end,
            importWh: base + e.importWh,
            exportWh: base + e.exportWh,
            gateway,
            signature: `0xsig-${meterId}-${end}`,
            receivedAt: end,
          },
        ];
      }),
    );
    replaceIntervalEnergy(
      ledger,
      energies.map((e) => ({
        intervalStart: start,
        meterId: `${e.id}-grid`,
        importWh: e.importWh,
        exportWh: e.exportWh,
        firstReadingTs: start,
        lastReadingTs: end,
      })),
    );
  });
  const sellers = energies.filter((e) => e.exportWh > 0).map((e) => ({ id: e.id, left: e.exportWh }));
  const buyers = energies.filter((e) => e.importWh > 0).map((e) => ({ id: e.id, left: e.importWh }));
  const trades: Trade[] = [];
  for (let i = 0, j = 0; i < sellers.length && j < buyers.length;) {
    const a = sellers[i]!;
    const b = buyers[j]!;
    const wh = Math.min(a.left, b.left);
    trades.push({
      buyOrder: `bid-${b.id}`,
      sellOrder: `offer-${a.id}`,
      buyer: b.id,
      seller: a.id,
      energyWh: wh,
      price: '0.1500',
      fee: '0.0100',
    });
    a.left -= wh;
    b.left -= wh;
    if (a.left === 0) i++;
    if (b.left === 0) j++;
  }
  const result: ClearingResult = {
    interval: toIso(start),
    kind: 'metered',
    rules: {
      mechanism: 'uniform',
      k: 0.5,
      priceTick: '0.0001',
      priceFloor: '0.0800',
      priceCap: '0.3000',
      zoneFees: [],
      zoneExportLimitsWh: {},
      ruleSetVersion: 'scenario-1',
    },
    clearingPrice: '0.1500',
    matchedWh: trades.reduce((t, x) => t + x.energyWh, 0),
    surplus: '0',
    trades,
    remainders: [],
  };
  saveClearing(ledger, result, 0);
  return { exportWh: energies.reduce((t, e) => t + e.exportWh, 0) };
}
