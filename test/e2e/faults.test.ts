import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { createPublicClient, http, type Abi, type Address } from 'viem';
import { ManualClock } from '../../core/clock.js';
import { demoConfig } from '../../core/config/demo.js';
import { validateConfig } from '../../core/config/validate.js';
import { toIso, toUnixSeconds } from '../../core/interval.js';
import type { AlarmEvent } from '../../core/events.js';
import { startMicrogrid } from '../../app/start.js';
import { participantAccount } from '../../settlement/index.js';
import { loadArtifact } from '../../contracts/artifact.js';
import { startSimulatedHousehold } from '../../meter-bridge/simulators/household.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { startProcess, waitUntil } from '../meter-bridge/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { pollAll } from './poll.js';

const DAY = Date.parse('2026-06-21T00:00:00Z');
const H = 3_600_000;
// MGX_TEST_LOG=file keeps the app's log of the day.
const silent = process.env.MGX_TEST_LOG
  ? pino({ level: 'debug' }, pino.destination(process.env.MGX_TEST_LOG))
  : pino({ level: 'silent' });

async function startVm(port: number, dir: string) {
  const vm = await startProcess(
    '/usr/bin/victoria-metrics',
    [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dir}`, '-loggerLevel=ERROR', '-retentionPeriod=100y'],
    null,
  );
  await waitUntil(
    async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true,
    15_000,
    'victoria-metrics /health',
  );
  return vm;
}

/**
 * A day with faults: one household's device offline for an hour (then back,
 * rebooted, its counters reset), InfluxDB down for an hour, the chain frozen
 * for three intervals, and the market clock stepping forward half an hour.
 * The day must still settle correctly, and the alarms must say what happened.
 */
test(
  'a day with a meter offline, InfluxDB down, the chain down and a clock jump still settles; the alarms say what happened',
  { timeout: 300_000 },
  async () => {
    const dir = tempDir();
    const vmPort = await freePort();
    let vm = await startVm(vmPort, join(dir, 'vm'));
    const clock = new ManualClock(DAY + 8 * H - 10 * 60_000);
    const demo = demoConfig(6);
    const config = validateConfig({
      ...structuredClone(demo),
      clock: { speed: 1 },
      // Polled every two minutes of market time below: every poll is recorded.
      bridge: { ...demo.bridge, recordEveryMs: 120_000 },
      influx: { url: `http://127.0.0.1:${vmPort}`, org: 'mgx', bucket: 'mgx' },
    });
    const mg = await startMicrogrid({
      config,
      configSource: 'test',
      dataDir: join(dir, 'data'),
      log: silent,
      port: 0,
      clock,
    });
    const alarms: AlarmEvent[] = [];
    mg.bus.on('alarm', (a) => alarms.push(a));
    const anvilPid = (JSON.parse(readFileSync(join(dir, 'data', 'chain', 'anvil.pid'), 'utf8')) as { pid: number }).pid;
    const step = async (until: number): Promise<void> => {
      for (let t = clock.now() + 120_000; t <= until; t += 120_000) {
        await clock.advanceTo(t);
        await pollAll(mg.bridge, { except: ['sim-h02'] });
      }
    };
    try {
      await step(DAY + 9 * H);
      // 09:00–10:00: household 2's device is unplugged; at 10:00 it comes back, rebooted.
      const h2 = mg.demo!.households[1]!;
      const port = h2.port;
      await h2.close();
      await step(DAY + 10 * H);
      const back = await startSimulatedHousehold({ clock, index: 1, host: h2.host, port });
      await step(DAY + 11 * H);
      // 11:00–12:00: InfluxDB is down.
      await vm.stop();
      await step(DAY + 12 * H);
      vm = await startVm(vmPort, join(dir, 'vm'));
      // 12:00–12:45: the chain is frozen (the node stops answering) for three intervals, at least 12 s of wall time.
      process.kill(anvilPid, 'SIGSTOP');
      const frozenAt = Date.now();
      await step(DAY + 12 * H + 45 * 60_000);
      await new Promise((r) => setTimeout(r, Math.max(0, 12_000 - (Date.now() - frozenAt))));
      process.kill(anvilPid, 'SIGCONT');
      await step(DAY + 14 * H);
      // 14:00: the clock steps forward half an hour.
      clock.jumpTo(DAY + 14 * H + 30 * 60_000);
      await step(DAY + 16 * H + 6 * 60_000);
      await mg.cycle.tick();

      const starts = Array.from({ length: 32 }, (_, i) => DAY + 8 * H + i * 900_000); // 08:00 … 15:45
      const stateOf = (s: number): string | undefined =>
        (mg.ledger.db.prepare('SELECT state FROM intervals WHERE start = ?').get(s) as { state: string } | undefined)
          ?.state;
      const deadline = Date.now() + 120_000;
      while (starts.some((s) => stateOf(s) !== 'final') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        await mg.cycle.tick();
      }
      assert.deepEqual(
        starts.filter((s) => stateOf(s) !== 'final').map(toIso),
        [],
        'every interval from 08:00 to 15:45 is final',
      );

      // Σ credits on chain = Σ actual metered export, every interval, faults or not.
      const client = createPublicClient({ transport: http(mg.chain.rpcUrl) });
      const abi = loadArtifact('EnergyCredits').abi as Abi;
      const accounts = config.participants.map((p) => participantAccount({ id: p.id }) as Address);
      for (const s of starts) {
        const exportWh = (
          mg.ledger.db
            .prepare(
              "SELECT COALESCE(SUM(e.export_wh), 0) AS n FROM interval_energy e JOIN meters m ON m.id = e.meter_id WHERE e.interval_start = ? AND m.role = 'grid' AND e.status = 'actual'",
            )
            .get(s) as { n: number }
        ).n;
        let minted = 0n;
        for (const a of accounts)
          minted += (await client.readContract({
            address: mg.chain.contract,
            abi,
            functionName: 'balanceOf',
            args: [a, BigInt(toUnixSeconds(s))],
          })) as bigint;
        assert.equal(minted, BigInt(exportWh), `${toIso(s)}: Σ credits = Σ metered export`);
      }
      // While its device was off, household 2 did not trade; the others did.
      const offHour = starts.filter((s) => s >= DAY + 9 * H + 900_000 && s < DAY + 10 * H);
      for (const s of offHour) {
        const q = (
          mg.ledger.db
            .prepare("SELECT quality FROM interval_energy WHERE interval_start = ? AND meter_id = 'h02-grid'")
            .get(s) as { quality: string }
        ).quality;
        assert.notEqual(q, 'good', `${toIso(s)}: h02-grid has no good data while offline`);
        const traded = (
          mg.ledger.db
            .prepare(
              "SELECT COUNT(*) AS n FROM trades WHERE interval_start = ? AND kind = 'metered' AND (buyer = 'h02' OR seller = 'h02')",
            )
            .get(s) as { n: number }
        ).n;
        assert.equal(traded, 0, `${toIso(s)}: h02 does not trade without meter data`);
      }

      const codes = new Set(alarms.map((a) => a.code));
      for (const code of [
        'DEVICE_OFFLINE',
        'DEVICE_ONLINE',
        'METER_DATA_MISSING',
        'CHAIN_UNAVAILABLE',
        'CHAIN_AVAILABLE',
        'CLOCK_JUMP',
      ])
        assert.ok(codes.has(code), `alarm ${code} raised (got ${[...codes].join(', ')})`);
      assert.ok(
        alarms.some((a) => a.code === 'DEVICE_OFFLINE' && a.subject === 'sim-h02'),
        'the offline alarm names the device',
      );
      assert.ok(
        alarms.some((a) => a.code === 'METER_DATA_MISSING' && a.message.includes('h02-grid')),
        'the missing-data alarm names the meter',
      );
      await back.close();
      // Readings taken while InfluxDB was down reached it after it came back (the sink spooled them).
      await waitUntil(
        async () => {
          const q = `http://127.0.0.1:${vmPort}/api/v1/export?match[]=${encodeURIComponent('{__name__=~"meter_reading_.*"}')}&start=${(DAY + 11 * H) / 1000}&end=${(DAY + 12 * H) / 1000 - 1}`;
          const body = await (await fetch(q)).text();
          return body.trim().length > 0;
        },
        90_000,
        'points from the InfluxDB outage hour in VictoriaMetrics (the sink sends its spool while the app runs)',
      );
    } finally {
      await mg.stop();
      await vm.stop();
    }
  },
);
