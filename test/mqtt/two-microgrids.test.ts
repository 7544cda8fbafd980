import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { createPublicClient, http, type Abi, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ManualClock } from '../../core/clock.js';
import { validateConfig } from '../../core/config/validate.js';
import type { Config } from '../../core/config/schema.js';
import { EventBus } from '../../core/events.js';
import { startBridge, type Bridge } from '../../meter-bridge/bridge.js';
import { devicesFromConfig } from '../../meter-bridge/config.js';
import { createMqttSink, type MqttSink } from '../../meter-bridge/sinks/mqtt.js';
import { startSimulatedHousehold, type SimulatedHousehold } from '../../meter-bridge/simulators/household.js';
import { ANVIL_KEYS } from '../../settlement/chain/accounts.js';
import { loadArtifact } from '../../contracts/artifact.js';
import { startMicrogrid } from '../../app/start.js';
import { runAudit } from '../../audit/audit.js';
import { meterDataRulesOf } from '../../audit/meter-data-window.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { pollAll } from '../e2e/poll.js';
import { waitUntil } from '../meter-bridge/helpers.js';

const DAY = Date.parse('2026-06-21T00:00:00Z');
const HOUR = 3_600_000;
const STEP = 10 * 60_000; // market time moves ten minutes at a time; each step every device is polled once
const FROM = DAY - STEP;
const TO = DAY + 24 * HOUR + STEP;
const silent = pino({ level: 'silent' });

/**
 * One microgrid: its engine (own ledger, own EnergyCredits contract) and a
 * gateway bridge publishing its two households over MQTT. Both microgrids name
 * their meters h1-grid and h2-grid: only the topic's microgrid tells them apart.
 */
async function microgrid(o: {
  id: string;
  broker: string;
  clock: ManualClock;
  households: number[];
  chain: Config['chain'] | undefined;
  env?: NodeJS.ProcessEnv;
}) {
  const dir = tempDir(`mgx-two-${o.id}-`);
  const gw = privateKeyToAccount(generatePrivateKey());
  const sims: SimulatedHousehold[] = [];
  for (const index of o.households)
    sims.push(await startSimulatedHousehold({ clock: o.clock, index, host: '127.0.0.1' }));
  const participants = sims.map((_, i) => ({
    id: `${o.id}-h${i + 1}`,
    name: `${o.id} household ${i + 1}`,
    meters: [{ id: `h${i + 1}-grid`, role: 'grid', gateway: gw.address, device: `house-${i + 1}` }],
  }));
  const common = {
    microgrid: { id: o.id },
    market: { intervalMinutes: 60 },
    clock: { speed: 1 },
    mqtt: { url: o.broker },
    bridge: { recordEveryMs: STEP, pollIntervalMs: 3_600_000 },
    server: { rateLimit: { readingsPerMinute: 100_000 } },
    participants,
    ...(o.chain ? { chain: o.chain } : {}),
  };
  // The engine reads no device itself: its meters' readings come from the gateway over MQTT.
  const engineConfig = validateConfig({
    ...common,
    participants: participants.map((p) => ({ ...p, meters: p.meters.map(({ device: _d, ...m }) => m) })),
  });
  const mg = await startMicrogrid({
    config: engineConfig,
    configSource: o.id,
    dataDir: join(dir, 'engine'),
    log: silent,
    port: 0,
    clock: o.clock,
    ...(o.env ? { env: o.env } : {}),
  });
  const gatewayConfig = validateConfig({
    ...common,
    bridge: {
      ...common.bridge,
      devices: sims.map((s, i) => ({
        id: `house-${i + 1}`,
        kind: 'sunspec',
        transport: { type: 'tcp', host: '127.0.0.1', port: s.port },
      })),
    },
  });
  const sink: MqttSink = createMqttSink({
    url: o.broker,
    topics: { prefix: 'mgx', microgrid: o.id },
    gateway: gw.address,
    spoolDir: join(dir, 'spool'),
    spoolMaxBytes: 1 << 24,
    maxMessagesPerSecond: 1000,
    flushIntervalMs: 3_600_000,
  });
  const bridge: Bridge = startBridge({
    devices: devicesFromConfig(gatewayConfig),
    clock: o.clock,
    bus: new EventBus(),
    sinks: [sink],
    signer: gw,
    pollIntervalMs: 3_600_000,
    recordEveryMs: STEP,
  });
  const stored = () => (mg.ledger.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
  const stop = async () => {
    await bridge.stop();
    await mg.stop();
    for (const s of sims) await s.close();
  };
  return { id: o.id, mg, sink, bridge, gw, config: engineConfig, stored, stop };
}

type Grid = Awaited<ReturnType<typeof microgrid>>;

test(
  "two microgrids, one broker, one chain: each engine takes only its own meters' readings and commits only its own intervals; both audits pass",
  { timeout: 150_000 },
  async () => {
    const broker = await startBroker();
    const clock = new ManualClock(FROM);
    const grids: Grid[] = [];
    try {
      const a = await microgrid({ id: 'north', broker: broker.url, clock, households: [0, 1], chain: undefined });
      grids.push(a);
      // Engine B settles on A's anvil (an external RPC to it) with its own contract, deployed by a second funded
      // account, so the two submitters' nonces never meet.
      const b = await microgrid({
        id: 'south',
        broker: broker.url,
        clock,
        households: [5, 6],
        chain: {
          rpcUrl: a.mg.chain.rpcUrl,
          chainId: 31337,
          privateKey: { env: 'SOUTH_SETTLER_KEY' },
          confirmations: 1,
          stuckAfterSeconds: 60,
          feeBumpPercent: 25,
          stalledAfterSeconds: 600,
        },
        env: { ...process.env, SOUTH_SETTLER_KEY: ANVIL_KEYS[1]! },
      });
      grids.push(b);
      assert.notEqual(a.mg.chain.contract.toLowerCase(), b.mg.chain.contract.toLowerCase());

      const t0 = Date.now();
      for (let t = FROM; t <= TO; t += STEP) {
        await clock.advanceTo(t);
        for (const g of grids) await pollAll(g.bridge);
        // Flushed until the spool is empty (the first flushes may come before the sink's connection is up).
        for (const g of grids)
          await waitUntil(
            async () => (await g.sink.flush(), g.sink.stats().spooled === 0),
            20_000,
            `${g.id}: spool sent`,
          );
        // Each engine has what its gateway published before market time moves on (the grace period is market time).
        for (const g of grids)
          await waitUntil(() => g.stored() === g.sink.stats().published, 20_000, `${g.id}: published readings stored`);
      }
      const day = Array.from({ length: 24 }, (_, i) => DAY + i * HOUR);
      const stateOf = (g: Grid, s: number) =>
        (g.mg.ledger.db.prepare('SELECT state FROM intervals WHERE start = ?').get(s) as { state: string } | undefined)
          ?.state;
      await waitUntil(
        async () => {
          for (const g of grids) await g.mg.cycle.tick();
          return grids.every((g) => day.every((s) => stateOf(g, s) === 'final'));
        },
        90_000,
        'every interval of the day final in both microgrids',
      );
      const wallS = ((Date.now() - t0) / 1000).toFixed(1);

      // Readings: each ledger holds exactly its own gateway's, though both microgrids name their meters alike.
      for (const g of grids) {
        const byGateway = g.mg.ledger.db
          .prepare('SELECT lower(gateway) AS gw, COUNT(*) AS n FROM readings GROUP BY lower(gateway)')
          .all() as { gw: string; n: number }[];
        assert.deepEqual(
          byGateway,
          [{ gw: g.gw.address.toLowerCase(), n: g.sink.stats().published }],
          `${g.id}: only its own gateway's readings`,
        );
        assert.ok(g.sink.stats().published >= 2 * 24 * 6, `${g.id}: a day of readings (${g.sink.stats().published})`);
        assert.doesNotMatch(
          await g.mg.metrics.render(),
          /^mgx_mqtt_messages_rejected_total\{/m,
          `${g.id}: never saw (and refused) the other microgrid's messages`,
        );
        assert.match(
          await g.mg.metrics.render(),
          new RegExp(`^mgx_mqtt_readings_accepted_total ${g.sink.stats().published}$`, 'm'),
        );
      }
      const exportOf = (g: Grid) =>
        g.mg.ledger.db
          .prepare(
            "SELECT interval_start AS s, SUM(export_wh) AS wh FROM interval_energy WHERE status = 'actual' GROUP BY interval_start HAVING wh > 0 ORDER BY s",
          )
          .all() as { s: number; wh: number }[];
      assert.notDeepEqual(exportOf(a), exportOf(b), 'the two microgrids metered different energy');

      // Chain: each contract holds the commitments of its own microgrid's intervals, with its own energy and readings
      // root.
      const client = createPublicClient({ transport: http(a.mg.chain.rpcUrl) });
      const abi = loadArtifact('EnergyCredits').abi as Abi;
      for (const g of grids) {
        const events = (await client.getContractEvents({
          address: g.mg.chain.contract as Address,
          abi,
          eventName: 'Committed',
          fromBlock: 0n,
        })) as unknown as { args: { interval: bigint; exportWh: bigint; readingsRoot: string } }[];
        const onChain = events
          .map((e) => ({
            s: Number(e.args.interval) * 1000,
            wh: Number(e.args.exportWh),
            root: e.args.readingsRoot.toLowerCase(),
          }))
          .sort((x, y) => x.s - y.s);
        const inLedger = g.mg.ledger.db
          .prepare(
            'SELECT interval_start AS s, export_wh AS wh, lower(readings_root) AS root FROM settlement_credits WHERE export_wh > 0 ORDER BY interval_start',
          )
          .all() as { s: number; wh: number; root: string }[];
        assert.ok(onChain.length > 0, `${g.id}: sunny intervals committed`);
        assert.deepEqual(onChain, inLedger, `${g.id}: the contract holds exactly its own ledger's commitments`);
        assert.deepEqual(
          onChain.map((x) => ({ s: x.s, wh: x.wh })),
          exportOf(g).map((x) => ({ s: x.s, wh: x.wh })),
          `${g.id}: committed export = its actual metered export`,
        );
        for (const x of onChain)
          assert.ok(day.includes(x.s), `${g.id}: ${new Date(x.s).toISOString()} is an interval of the day`);
      }

      for (const g of grids) {
        const report = await runAudit({
          ledger: g.mg.ledger,
          rpcUrl: g.mg.chain.rpcUrl,
          contract: g.mg.chain.contract,
          from: DAY,
          to: DAY + 24 * HOUR,
          intervalMs: HOUR,
          tariffs: {
            feedInTariff: g.config.market.feedInTariff,
            retailTariff: g.config.market.retailTariff,
            minorUnits: g.config.microgrid.currencyMinorUnits,
          },
          meterData: meterDataRulesOf(g.config),
          workers: 0,
        });
        const failures = report.intervals.flatMap((iv) =>
          iv.checks
            .filter((c) => !c.pass)
            .map((c) => `${iv.interval} ${c.check}: ${JSON.stringify(c.failures).slice(0, 300)}`),
        );
        assert.deepEqual(failures, [], `${g.id}: the audit finds no discrepancy`);
        assert.equal(report.intervals.length, 24);
      }
      console.log(
        `two microgrids, a simulated day each (24 one-hour intervals), final on one anvil in ${wallS} s of wall time; readings north ${a.sink.stats().published}, south ${b.sink.stats().published}`,
      );
    } finally {
      for (const g of grids.reverse()) await g.stop();
      await broker.stop();
    }
  },
);
