import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ManualClock } from '../../core/clock.js';
import { EventBus, type ReadingEvent } from '../../core/events.js';
import { validateConfig } from '../../core/config/validate.js';
import { buildDashboard } from '../../dashboard/app.js';
import { listReadingsBefore, setMeterGateway } from '../../ledger/readings.js';
import { startBridge } from '../../meter-bridge/bridge.js';
import { loadGatewayKey } from '../../meter-bridge/readings/gateway-key.js';
import { recoverReadingSigner, signReading } from '../../meter-bridge/readings/sign.js';
import { createPushSink } from '../../meter-bridge/sinks/push.js';
import { startSimulatedHousehold } from '../../meter-bridge/simulators/household.js';
import { tempDir } from '../helpers/tmp.js';
import { ledgerWithMeters, waitUntil } from './helpers.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const reading = (meterId: string, s: number, importWh = 1000 + s): ReadingEvent => ({
  type: 'reading',
  meterId,
  ts: new Date(T0 + s * 1000).toISOString(),
  powerW: -1234,
  importWh,
  exportWh: 55,
  voltageV: 230.4,
  frequencyHz: 49.987,
  quality: 'good',
});

function app(ledger: ReturnType<typeof ledgerWithMeters>, bus = new EventBus()) {
  return buildDashboard({
    ledger,
    config: validateConfig({}),
    clock: new ManualClock(T0),
    version: 't',
    env: {},
    buildBundle: false,
    bus,
  });
}

test('gateway key: created on first start with mode 0600, the same key afterwards', () => {
  const dir = join(tempDir('mgx-gw-'), 'data');
  const a = loadGatewayKey(dir);
  assert.equal(statSync(join(dir, 'gateway.key')).mode & 0o777, 0o600);
  assert.equal(loadGatewayKey(dir).address, a.address);
});

test('EIP-712 reading signatures recover to the gateway; any changed value does not', async () => {
  const gw = privateKeyToAccount(generatePrivateKey());
  const s = await signReading(gw, reading('m1', 1));
  assert.equal(await recoverReadingSigner(s), gw.address);
  for (const change of [
    { importWh: 1002 },
    { powerW: -1235 },
    { quality: 'suspect' as const },
    { frequencyHz: 49.988 },
    { voltageV: null },
    { ts: new Date(T0 + 1001).toISOString() },
    { meterId: 'm2' },
  ]) {
    assert.notEqual(await recoverReadingSigner({ ...s, ...change }), gw.address, JSON.stringify(change));
  }
});

test("POST /api/readings stores readings signed by the meter's registered gateway and refuses the rest", async () => {
  const ledger = ledgerWithMeters(['m1', 'm2']);
  const gw = privateKeyToAccount(generatePrivateKey());
  const other = privateKeyToAccount(generatePrivateKey());
  setMeterGateway(ledger, 'm1', gw.address);
  const bus = new EventBus();
  const seen: ReadingEvent[] = [];
  bus.on('reading', (r) => seen.push(r));
  const server = app(ledger, bus);
  try {
    const batch = [await signReading(gw, reading('m1', 1)), await signReading(gw, reading('m1', 2))];
    let res = await server.inject({ method: 'POST', url: '/api/readings', payload: { readings: batch } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { accepted: 2, duplicates: 0 });
    assert.equal(seen.length, 2);
    const stored = listReadingsBefore(ledger, 'm1', T0, T0 + 10_000);
    assert.deepEqual(
      stored.map((x) => [x.importWh, x.gateway, x.signature]),
      batch.map((b) => [b.importWh, gw.address, b.signature]),
    );
    res = await server.inject({ method: 'POST', url: '/api/readings', payload: { readings: batch } });
    assert.deepEqual(res.json(), { accepted: 0, duplicates: 2 });

    // Signed by another key.
    res = await server.inject({
      method: 'POST',
      url: '/api/readings',
      payload: { readings: [await signReading(other, reading('m1', 3))] },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().code, 'READING_SIGNATURE');
    assert.match(res.json().message, /body\.readings\[0\]\.signature/);
    // Tampered after signing.
    const t = await signReading(gw, reading('m1', 4));
    res = await server.inject({
      method: 'POST',
      url: '/api/readings',
      payload: { readings: [{ ...t, importWh: 99_999 }] },
    });
    assert.equal(res.statusCode, 401);
    // A meter without a registered gateway, and an unknown meter.
    res = await server.inject({
      method: 'POST',
      url: '/api/readings',
      payload: { readings: [await signReading(gw, reading('m2', 1))] },
    });
    assert.equal(res.json().code, 'READING_SIGNATURE');
    // An unknown meter answers like a bad signature: which meters exist is not told (issue 13).
    res = await server.inject({
      method: 'POST',
      url: '/api/readings',
      payload: { readings: [await signReading(gw, reading('nope', 1))] },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().code, 'READING_SIGNATURE');
    // Malformed: a float Wh.
    res = await server.inject({
      method: 'POST',
      url: '/api/readings',
      payload: { readings: [{ ...t, importWh: 1.5 }] },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(listReadingsBefore(ledger, 'm1', T0, T0 + 10_000).length, 2, 'nothing refused was stored');
  } finally {
    await server.close();
    ledger.close();
  }
});

test('a remote bridge pushes signed readings over HTTP; readings taken while the engine is down arrive later, in order', async () => {
  const ledger = ledgerWithMeters(['h01-grid', 'h01-pv']);
  const dataDir = tempDir('mgx-bridge-');
  const key = loadGatewayKey(dataDir);
  setMeterGateway(ledger, 'h01-grid', key.address);
  setMeterGateway(ledger, 'h01-pv', key.address);
  const clock = new ManualClock(T0);
  const house = await startSimulatedHousehold({ clock, index: 0 });
  let server = app(ledger);
  await server.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.server.address() as { port: number }).port;
  const push = createPushSink({
    url: `http://127.0.0.1:${port}`,
    spoolDir: join(dataDir, 'push-spool'),
    spoolMaxBytes: 1_000_000,
    flushIntervalMs: 60_000,
    timeoutMs: 2000,
  });
  const bridge = startBridge({
    devices: [
      {
        id: 'sim-h01',
        kind: 'sunspec',
        transport: { type: 'tcp', host: '127.0.0.1', port: house.port },
        unitId: 1,
        meters: { grid: 'h01-grid', pv: 'h01-pv' },
      },
    ],
    clock,
    bus: new EventBus(),
    sinks: [push],
    signer: key,
    recordEveryMs: 1000,
    autoStart: false,
  });
  try {
    for (let i = 0; i < 3; i++) {
      await clock.advanceBy(1000);
      await bridge.pollOnce();
    }
    await push.flush();
    assert.equal(listReadingsBefore(ledger, 'h01-grid', T0, T0 + 60_000).length, 3);
    assert.equal(listReadingsBefore(ledger, 'h01-pv', T0, T0 + 60_000).length, 3);
    await server.close();
    for (let i = 0; i < 3; i++) {
      await clock.advanceBy(1000);
      await bridge.pollOnce();
    }
    await push.flush();
    assert.equal(push.stats().spooled, 6, 'six readings wait on disk');
    server = app(ledger);
    await server.listen({ host: '127.0.0.1', port });
    await waitUntil(async () => (await push.flush(), push.stats().spooled === 0), 10_000, 'spool drained');
    const grid = listReadingsBefore(ledger, 'h01-grid', T0, T0 + 60_000);
    assert.deepEqual(
      grid.map((g) => g.ts),
      [1, 2, 3, 4, 5, 6].map((s) => T0 + s * 1000),
    );
    assert.ok(grid.every((g) => g.gateway === key.address && g.signature !== null));
    // The stored values still verify against the stored signature.
    const g0 = grid[0]!;
    const again = await recoverReadingSigner({
      type: 'reading',
      meterId: g0.meterId,
      ts: new Date(g0.ts).toISOString(),
      powerW: g0.powerW,
      importWh: g0.importWh,
      exportWh: g0.exportWh,
      voltageV: g0.voltageV,
      frequencyHz: g0.frequencyHz,
      quality: g0.quality,
      signature: g0.signature!,
    });
    assert.equal(again, key.address);
  } finally {
    await bridge.stop();
    await server.close();
    await house.close();
    ledger.close();
  }
});
