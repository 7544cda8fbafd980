import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { ReadingEvent } from '../../../core/events.js';
import { setMeterGateway } from '../../../ledger/readings.js';
import { signReading } from '../../../meter-bridge/readings/sign.js';
import { makeFixture, auth, TOKENS, fixtureConfig, T0, MIN15 } from '../fixture.js';

// Issue 13, item 3: signed readings pushed without a token. A duplicate or an older
// reading never moves the live state; what is not signed never reaches a stream; an
// unknown meter answers like a bad signature; pushes are rate limited per address and gateway.
const f = await makeFixture({
  readingGapMs: 0,
  config: fixtureConfig({ server: { rateLimit: { readingsPerMinute: 1000, writesPerMinute: 100000 } } }),
});
after(() => f.app.close());
const gw = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());
setMeterGateway(f.ledger, 'h01-grid', gw.address);
setMeterGateway(f.ledger, 'h02-grid', gw.address);
const seen: ReadingEvent[] = [];
f.bus.on('reading', (r) => seen.push(r));

const T = T0 + MIN15 + 30_000;
const reading = (s: number, powerW: number, meterId = 'h01-grid', extra: Partial<ReadingEvent> = {}): ReadingEvent => ({
  type: 'reading',
  meterId,
  ts: new Date(T + s * 1000).toISOString(),
  powerW,
  importWh: 1000 + s,
  exportWh: 5000,
  voltageV: 230,
  frequencyHz: 50,
  quality: 'good',
  ...extra,
});
let address = 0;
const push = (readings: object[], remoteAddress = `10.1.0.${++address % 250}`) =>
  f.app.inject({ method: 'POST', url: '/api/readings', remoteAddress, payload: { readings } });
const livePower = async (): Promise<number | null> => {
  await tick();
  await tick();
  return (await f.app.inject({ url: '/api/state', headers: auth(TOKENS.operator) })).json().state.meters['h01-grid']
    .powerW;
};

test('a duplicate or an older signed reading is stored once and never changes the live state', async () => {
  const old = await signReading(gw, reading(1, 446));
  const now = await signReading(gw, reading(2, 222));
  assert.deepEqual((await push([now])).json(), { accepted: 1, duplicates: 0 });
  assert.equal(await livePower(), 222);
  // Replays of the current reading: duplicates, nothing moves, nothing is re-announced.
  const before = seen.length;
  for (let i = 0; i < 5; i++) assert.deepEqual((await push([now])).json(), { accepted: 0, duplicates: 1 });
  assert.equal(seen.length, before, 'a duplicate is not emitted again');
  // An older reading the ledger did not have (a spool catching up) is stored for metering, not shown live.
  assert.deepEqual((await push([old])).json(), { accepted: 1, duplicates: 0 });
  assert.equal(await livePower(), 222);
  for (let i = 0; i < 5; i++) await push([old]);
  assert.equal(await livePower(), 222, 'old value replayed: live state unchanged');
});

test('the unsigned reasons text never reaches the bus (so no stream) as given', async () => {
  const signed = await signReading(gw, reading(10, 300, 'h01-grid', { quality: 'suspect' }));
  const r = await push([{ ...signed, reasons: ['=HYPERLINK("http://evil.example","click")'] }]);
  assert.equal(r.statusCode, 200, r.body);
  const ev = seen.find((e) => e.ts === signed.ts)!;
  assert.ok(ev, 'emitted');
  assert.ok(!JSON.stringify(ev).includes('HYPERLINK'), JSON.stringify(ev));
  const state = JSON.stringify((await f.app.inject({ url: '/api/state', headers: auth(TOKENS.operator) })).json());
  assert.ok(!state.includes('HYPERLINK'));
});

test('unknown meter, meter without gateway, bad signature and wrong signer all answer the same', async () => {
  const good = await signReading(gw, reading(20, 100));
  const bodies = await Promise.all([
    push([await signReading(gw, reading(21, 100, 'no-such-meter'))]),
    push([await signReading(gw, reading(21, 100, 'h03-grid'))]),
    push([{ ...good, powerW: 101 }]),
    push([await signReading(stranger, reading(21, 100))]),
    push([{ ...good, signature: '0x' + '1'.repeat(130) }]),
  ]);
  const shapes = bodies.map((b) => `${b.statusCode} ${b.body}`);
  assert.equal(new Set(shapes).size, 1, shapes.join('\n'));
  assert.equal(bodies[0]!.statusCode, 401);
  assert.equal(bodies[0]!.json().code, 'READING_SIGNATURE');
});

test('pushes are rate limited per address and per gateway', async () => {
  const g = await makeFixture({
    readingGapMs: 0,
    config: fixtureConfig({ server: { rateLimit: { readingsPerMinute: 3 } } }),
  });
  try {
    setMeterGateway(g.ledger, 'h01-grid', gw.address);
    const other = privateKeyToAccount(generatePrivateKey());
    setMeterGateway(g.ledger, 'h02-grid', other.address);
    const send = (body: object[], remoteAddress: string) =>
      g.app.inject({ method: 'POST', url: '/api/readings', remoteAddress, payload: { readings: body } });
    // Per address: garbage counts too (the limit is met before the body is read).
    for (let i = 0; i < 3; i++) assert.notEqual((await send([{}], '10.2.0.1')).statusCode, 429);
    const r = await send([{}], '10.2.0.1');
    assert.equal(r.statusCode, 429);
    assert.equal(r.json().code, 'RATE_LIMITED');
    // Per gateway: one gateway's readings from many addresses.
    for (let i = 0; i < 3; i++)
      assert.equal((await send([await signReading(gw, reading(100 + i, 1))], `10.3.0.${i}`)).statusCode, 200);
    const g4 = await send([await signReading(gw, reading(110, 1))], '10.3.0.99');
    assert.equal(g4.statusCode, 429, g4.body);
    assert.equal(
      (await send([await signReading(other, reading(110, 1, 'h02-grid'))], '10.3.0.98')).statusCode,
      200,
      'another gateway is not affected',
    );
  } finally {
    await g.app.close();
  }
});
