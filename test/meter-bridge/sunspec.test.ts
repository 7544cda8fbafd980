import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isMicrogridError } from '../../core/errors.js';
import { decodeValue, encodeValue } from '../../meter-bridge/registers/decode.js';
import { coalesce } from '../../meter-bridge/registers/coalesce.js';
import { SunSpecReader } from '../../meter-bridge/sunspec/device.js';
import { sunSpecModel, sunSpecModels } from '../../meter-bridge/sunspec/models.js';
import { discoverSunSpec } from '../../meter-bridge/sunspec/discover.js';
import { SunSpecImage, type ImageModel } from '../../meter-bridge/simulators/sunspec-image.js';
import { ModbusException, startRegisterServer } from '../../meter-bridge/simulators/register-server.js';
import { BusPool } from '../../meter-bridge/transport/bus-pool.js';
import { fcParams } from '../helpers/fc.js';

async function serve(models: ImageModel[], base: number) {
  const image = new SunSpecImage(models, base);
  let requests = 0;
  const server = await startRegisterServer((_u, fc, a, n) => {
    requests++;
    const r = fc === 3 ? image.read(a, n) : undefined;
    if (!r) throw new ModbusException(2);
    return r;
  });
  const pool = new BusPool({ timeoutMs: 1000 });
  const bus = pool.get({ type: 'tcp', host: '127.0.0.1', port: server.port });
  return { image, bus, requests: () => requests, close: async () => (await pool.close(), await server.close()) };
}

test('the shipped models come from the official JSON with their offsets', () => {
  assert.deepEqual(
    [...sunSpecModels().keys()].sort((a, b) => a - b),
    [1, 101, 102, 103, 111, 112, 113, 120, 201, 202, 203, 204, 211, 212, 213, 214, 701],
  );
  const m203 = sunSpecModel(203)!;
  assert.equal(m203.length, 105);
  assert.deepEqual(
    [m203.byName.get('W')!.offset, m203.byName.get('TotWhImp')!.offset, m203.byName.get('TotWh_SF')!.offset],
    [18, 46, 54],
  );
  assert.equal(sunSpecModel(1)!.length, 66);
});

test('discovery at 50000 and at 0; unknown models are skipped and listed', async () => {
  for (const base of [50000, 0]) {
    const d = await serve(
      [
        { id: 1, values: { Mn: 'Vendor' } },
        { id: 64110, length: 20 },
        { id: 213, values: { W: -1234.5, Hz: 50.02, PhV: 229.9, TotWhImp: 1_000_000.4, TotWhExp: 2_000.9 } },
      ],
      base,
    );
    try {
      const report = await discoverSunSpec(d.bus, 1);
      assert.equal(report.base, base);
      assert.deepEqual(
        report.models.map((m) => [m.id, m.address - base, m.known]),
        [
          [1, 2, true],
          [64110, 70, false],
          [213, 92, true],
        ],
      );
      assert.deepEqual(report.unknown, [64110]);
      const reader = new SunSpecReader({ deviceId: 'f', bus: d.bus, unitId: 1 });
      assert.deepEqual(await reader.read(), [
        {
          meterId: 'f',
          powerW: -1235,
          importWh: 1_000_000,
          exportWh: 2_000,
          voltageV: 229.9,
          frequencyHz: 50.02,
          counterWrapWh: null,
        },
      ]);
    } finally {
      await d.close();
    }
  }
});

test('no SunS marker: SUNSPEC_NOT_FOUND naming what was found where', async () => {
  const server = await startRegisterServer((_u, _fc, a, n) => {
    if (a === 0) return new Array<number>(n).fill(7);
    throw new ModbusException(2);
  });
  const pool = new BusPool({ timeoutMs: 500 });
  try {
    await assert.rejects(discoverSunSpec(pool.get({ type: 'tcp', host: '127.0.0.1', port: server.port }), 1), (e) => {
      assert.ok(isMicrogridError(e, 'SUNSPEC_NOT_FOUND'));
      assert.match(e.message, /40000: exception 2, 50000: exception 2, 0: 0x77/);
      return true;
    });
  } finally {
    await pool.close();
    await server.close();
  }
});

test('DER model 701: W, TotWhInj/TotWhAbs (uint64) and LNV with their scale factors', async () => {
  const d = await serve(
    [
      { id: 1 },
      {
        id: 701,
        values: {
          W: 420,
          W_SF: 1,
          TotWhInj: 123_456_789n,
          TotWhAbs: 42n,
          TotWh_SF: 0,
          LNV: 2311,
          V_SF: -1,
          Hz: 50_010,
          Hz_SF: -3,
        },
      },
    ],
    40000,
  );
  try {
    const r = new SunSpecReader({ deviceId: 'der', bus: d.bus, unitId: 1 });
    assert.deepEqual(await r.read(), [
      {
        meterId: 'der',
        powerW: -4200,
        importWh: 42,
        exportWh: 123_456_789,
        voltageV: 231.1,
        frequencyHz: 50.01,
        counterWrapWh: null,
      },
    ]);
    assert.equal(r.requestsPerRead, 1);
  } finally {
    await d.close();
  }
});

test('inverter 103 + meter 203 are read in two requests per cycle, not one per point', async () => {
  const d = await serve(
    [
      { id: 1 },
      { id: 103, values: { W: 1, W_SF: 0, WH: 5, WH_SF: 0 } },
      { id: 203, values: { W: 1, W_SF: 0, TotWhImp: 5, TotWhExp: 5, TotWh_SF: 0 } },
    ],
    40000,
  );
  try {
    const r = new SunSpecReader({ deviceId: 'x', bus: d.bus, unitId: 1, meters: { grid: 'g', pv: 'p' } });
    await r.discover();
    const before = d.requests();
    await r.read();
    await r.read();
    assert.equal(d.requests() - before, 4);
  } finally {
    await d.close();
  }
});

test('coalescing: groups are never split, spans stay within 125 registers', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          from: fc.integer({ min: 0, max: 2000 }),
          len: fc.integer({ min: 1, max: 40 }),
          fc: fc.constantFrom(3 as const, 4 as const),
        }),
        { maxLength: 60 },
      ),
      fc.integer({ min: 0, max: 30 }),
      (gs, maxGap) => {
        const groups = gs.map((g, i) => ({ key: `g${i}`, fc: g.fc, from: g.from, to: g.from + g.len - 1 }));
        const plan = coalesce(groups, { maxGap });
        assert.equal(plan.flatMap((p) => p.groups).length, groups.length);
        for (const p of plan) {
          assert.ok(p.count >= 1 && p.count <= 125);
          for (const g of p.groups) assert.ok(g.fc === p.fc && g.from >= p.address && g.to <= p.address + p.count - 1);
        }
      },
    ),
    fcParams('coalesce'),
  );
});

test('register codec: every value round-trips, sentinels decode to null', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -0x7fffffff, max: 0x7fffffff }),
      fc.constantFrom('high-first' as const, 'low-first' as const),
      (v, order) => {
        assert.equal(decodeValue('int32', encodeValue('int32', v, order), order), v);
        const u = Math.abs(v);
        assert.equal(decodeValue('uint32', encodeValue('uint32', u, order), order), u);
        const s = (v % 0x7fff) + 0; // + 0 turns -0 into 0
        assert.equal(decodeValue('int16', encodeValue('int16', s)), s);
      },
    ),
    fcParams('register codec'),
  );
  assert.equal(decodeValue('int16', [0x8000]), null);
  assert.equal(decodeValue('uint16', [0xffff]), null);
  assert.equal(decodeValue('int32', [0x8000, 0]), null);
  assert.equal(decodeValue('uint32', [0xffff, 0xffff]), null);
  assert.equal(decodeValue('acc32', [0, 0]), null);
  assert.equal(decodeValue('float32', [0x7fc0, 0]), null);
  assert.equal(decodeValue('int64', [0x8000, 0, 0, 0]), null);
  assert.equal(decodeValue('uint64', [0xffff, 0xffff, 0xffff, 0xffff]), null);
  assert.equal(decodeValue('int32', [0x5678, 0x1234], 'low-first'), 0x12345678);
});
