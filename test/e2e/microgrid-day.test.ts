import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import WebSocket from 'ws';
import { createPublicClient, http, type Abi, type Address } from 'viem';
import { ManualClock } from '../../core/clock.js';
import { demoConfig } from '../../core/config/demo.js';
import { validateConfig } from '../../core/config/validate.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { toIso, toUnixSeconds } from '../../core/interval.js';
import type { ClearingResult, OrderInput } from '../../core/market.js';
import type { MicrogridEvent } from '../../core/events.js';
import { clearBook } from '../../matching-engine/index.js';
import { getClearing } from '../../ledger/clearing.js';
import { startMicrogrid } from '../../app/start.js';
import { participantAccount } from '../../settlement/index.js';
import { loadArtifact } from '../../contracts/artifact.js';
import { tempDir } from '../helpers/tmp.js';
import { runAudit } from '../../audit/audit.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import { pollAll } from './poll.js';

const DAY = Date.parse('2026-06-21T00:00:00Z');
const FROM = DAY - 10 * 60_000; // 23:50 the day before
const TO = DAY + 24 * 3_600_000 + 5 * 60_000; // 00:05 the day after
const silent = pino({ level: 'silent' });

test(
  'a simulated day: households → Modbus → bridge → ledger → metered clearing → settlement → anvil → stream',
  { timeout: 240_000 },
  async () => {
    const dataDir = tempDir();
    const clock = new ManualClock(FROM);
    const demo = demoConfig(6);
    const config = validateConfig({
      ...structuredClone(demo),
      clock: { speed: 1 },
      bridge: { ...demo.bridge, recordEveryMs: 120_000 },
    });
    const mg = await startMicrogrid({ config, configSource: 'test', dataDir, log: silent, port: 0, clock });
    const frames: { type: string; events?: MicrogridEvent[] }[] = [];
    const ws = new WebSocket(`${mg.url.replace('http', 'ws')}/api/stream`);
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as { type: string; events?: MicrogridEvent[] }));
    await new Promise((r) => ws.once('open', r));
    try {
      // Market time moves two minutes at a time; each step every device is polled over Modbus TCP.
      for (let t = FROM; t <= TO; t += 120_000) {
        await clock.advanceTo(t);
        await pollAll(mg.bridge);
      }
      await mg.cycle.tick();

      const starts = Array.from({ length: 96 }, (_, i) => DAY + i * 900_000); // 00:00 … 23:45
      const sunny = new Set(starts.filter((s) => s >= DAY + 10 * 3_600_000 && s < DAY + 12 * 3_600_000)); // 10:00 … 11:45
      const deadline = Date.now() + 120_000;
      const stateOf = (s: number): string | undefined =>
        (mg.ledger.db.prepare('SELECT state FROM intervals WHERE start = ?').get(s) as { state: string } | undefined)
          ?.state;
      while (starts.some((s) => stateOf(s) !== 'final') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        await mg.cycle.tick();
      }
      assert.deepEqual(
        starts.map(stateOf),
        starts.map(() => 'final'),
        'every interval of the day is final',
      );

      const client = createPublicClient({ transport: http(mg.chain.rpcUrl) });
      const abi = loadArtifact('EnergyCredits').abi as Abi;
      const participants = config.participants.map((p) => ({
        id: p.id,
        account: participantAccount({ id: p.id }) as Address,
      }));
      let tradedIntervals = 0;
      for (const s of starts) {
        // Honest meters read every two minutes from before the day began: every grid meter-interval is actual.
        const statuses = mg.ledger.db
          .prepare(
            "SELECT e.status FROM interval_energy e JOIN meters m ON m.id = e.meter_id WHERE e.interval_start = ? AND m.role = 'grid'",
          )
          .all(s) as { status: string }[];
        assert.ok(
          statuses.length > 0 && statuses.every((r) => r.status === 'actual'),
          `${toIso(s)}: meter data actual (${statuses.map((r) => r.status).join(',')})`,
        );
        // Σ credits on chain (read from balances, not the ledger) = Σ actual metered export of the grid meters.
        const exportWh = (
          mg.ledger.db
            .prepare(
              "SELECT COALESCE(SUM(e.export_wh), 0) AS n FROM interval_energy e JOIN meters m ON m.id = e.meter_id WHERE e.interval_start = ? AND m.role = 'grid' AND e.status = 'actual'",
            )
            .get(s) as { n: number }
        ).n;
        const balances = await Promise.all(
          participants.map(async (p) =>
            Number(
              (await client.readContract({
                address: mg.chain.contract,
                abi,
                functionName: 'balanceOf',
                args: [p.account, BigInt(toUnixSeconds(s))],
              })) as bigint,
            ),
          ),
        );
        const minted = balances.reduce((a, b) => a + b, 0);
        assert.equal(minted, exportWh, `${toIso(s)}: Σ credits on chain = Σ metered export`);
        if (!sunny.has(s)) continue;
        assert.ok(exportWh > 0, `${toIso(s)}: the sun is up, households export`);

        // The metered clearing is exactly what the engine gives for the stored orders,
        // and the orders are exactly the meters' net export or net import at the households' standing prices.
        const stored = getClearing(mg.ledger, s, 'metered') as ClearingResult;
        const orders = mg.ledger.db
          .prepare(
            "SELECT id, participant_id AS participant, side, energy_wh AS energyWh, price, zone, seq FROM orders WHERE interval_start = ? AND source = 'metered' ORDER BY seq",
          )
          .all(s) as Omit<OrderInput, 'interval'>[];
        const energy = mg.ledger.db
          .prepare(
            "SELECT m.participant_id AS p, e.import_wh AS imp, e.export_wh AS exp, e.status FROM interval_energy e JOIN meters m ON m.id = e.meter_id WHERE e.interval_start = ? AND m.role = 'grid' ORDER BY m.participant_id",
          )
          .all(s) as { p: string; imp: number; exp: number; status: string }[];
        const expectedOrders = energy
          .filter((e) => e.status === 'actual')
          .flatMap((e) => [
            ...(e.exp > e.imp ? [{ participant: e.p, side: 'offer', energyWh: e.exp - e.imp, price: '0.1000' }] : []),
            ...(e.imp > e.exp ? [{ participant: e.p, side: 'bid', energyWh: e.imp - e.exp, price: '0.2500' }] : []),
          ]);
        for (const t of stored.trades) assert.notEqual(t.buyer, t.seller, `${toIso(s)}: no self-trade`);
        assert.deepEqual(
          orders.map((o) => ({ participant: o.participant, side: o.side, energyWh: o.energyWh, price: o.price })),
          expectedOrders,
          `${toIso(s)}: metered orders`,
        );
        const rerun = clearBook(
          { interval: toIso(s), kind: 'metered', orders: orders.map((o) => ({ ...o, interval: toIso(s) })) },
          stored.rules,
        );
        assert.equal(canonicalJson(rerun), canonicalJson(stored), `${toIso(s)}: clearing re-run byte for byte`);
        if (stored.trades.length > 0) {
          tradedIntervals++;
          const sold = stored.trades.reduce((a, t) => a + t.energyWh, 0);
          const supply = expectedOrders.filter((o) => o.side === 'offer').reduce((a, o) => a + o.energyWh, 0);
          const demand = expectedOrders.filter((o) => o.side === 'bid').reduce((a, o) => a + o.energyWh, 0);
          assert.equal(sold, Math.min(supply, demand), `${toIso(s)}: all the surplus that has a buyer is traded`);
          // All offers ask 0.1000 and all bids pay up to 0.2500: the long side's limit sets the uniform price
          // (unfilled sellers at 0.1000 would undercut any higher price), the midpoint only when both sides fill.
          const price = supply > demand ? '0.1000' : demand > supply ? '0.2500' : '0.1750';
          assert.ok(
            stored.trades.every((t) => t.price === price),
            `${toIso(s)}: uniform price ${price}, got ${stored.clearingPrice}`,
          );
          // buyers of matched units hold those credits; producers hold the rest of their export
          for (const t of stored.trades)
            assert.ok(
              balances[participants.findIndex((p) => p.id === t.buyer)]! > 0,
              `${toIso(s)}: buyer ${t.buyer} holds credits`,
            );
        }
        const statements = mg.ledger.db
          .prepare('SELECT paid, received, fees FROM statements WHERE interval_start = ?')
          .all(s) as { paid: string; received: string; fees: string }[];
        const cents = (k: 'paid' | 'received' | 'fees'): number =>
          statements.reduce((a, r) => a + Math.round(Number(r[k]) * 100), 0);
        assert.equal(cents('paid'), cents('received') + cents('fees'), `${toIso(s)}: statements balance to the cent`);
      }
      assert.ok(tradedIntervals >= 6, `most late-morning intervals trade (${tradedIntervals} of 8)`);
      // The utility audit of the whole day, against the chain, passes every check for every interval.
      const report = await runAudit({
        ledger: mg.ledger,
        rpcUrl: mg.chain.rpcUrl,
        contract: mg.chain.contract,
        from: DAY,
        to: DAY + 24 * 3_600_000,
        intervalMs: 900_000,
        tariffs: {
          feedInTariff: config.market.feedInTariff,
          retailTariff: config.market.retailTariff,
          minorUnits: config.microgrid.currencyMinorUnits,
        },
        meterData: meterDataRulesOf(config),
        workers: 0,
      });
      const failures = report.intervals.flatMap((iv) =>
        iv.checks
          .filter((c) => !c.pass)
          .map((c) => `${iv.interval} ${c.check}: ${JSON.stringify(c.failures).slice(0, 300)}`),
      );
      assert.deepEqual(failures, [], 'the audit finds no discrepancy');
      assert.equal(report.intervals.length, 96);
      const cleared = frames
        .flatMap((f) => f.events ?? [])
        .filter((e) => e.type === 'interval-cleared' && e.kind === 'metered');
      assert.ok(cleared.length >= 96, `the dashboard stream carried each metered clearing (${cleared.length})`);
    } finally {
      ws.close();
      await mg.stop();
    }
  },
);
