import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ManualClock } from '../../core/clock.js';
import { validateConfig } from '../../core/config/validate.js';
import { MicrogridError } from '../../core/errors.js';
import { buildDashboard } from '../../dashboard/app.js';
import { parseReadingsBody } from '../../dashboard/readings-intake.js';
import { signReading } from '../../meter-bridge/readings/sign.js';
import { fcParams } from '../helpers/fc.js';
import { ledgerWithMeters } from '../meter-bridge/helpers.js';

const T0 = Date.UTC(2026, 5, 21, 12, 0, 0);

/**
 * The MQTT subscriber checks payloads with TypeBox (parseReadingsBody), the
 * HTTP route with fastify's ajv; both from one schema. This pins that they
 * agree: a body MQTT refuses as schema is exactly one POST /api/readings
 * answers 400 for.
 */
test(
  'MQTT and POST /api/readings refuse the same bodies on schema grounds (random mutations of a signed batch)',
  { timeout: 120_000 },
  async () => {
    const ledger = ledgerWithMeters(['m1']);
    const config = validateConfig({
      server: { bodyLimitBytes: 1_048_576, rateLimit: { readingsPerMinute: 100_000, writesPerMinute: 100_000 } },
    }); // 501 readings fit: the schema's maxItems answers, not the size bound;
    const app = buildDashboard({
      ledger,
      config,
      clock: new ManualClock(T0),
      version: 't',
      env: {},
      buildBundle: false,
    });
    const gw = privateKeyToAccount(generatePrivateKey());
    const good = await signReading(gw, {
      type: 'reading',
      meterId: 'm1',
      ts: new Date(T0).toISOString(),
      powerW: -100,
      importWh: 5,
      exportWh: 7,
      voltageV: 230.5,
      frequencyHz: 50,
      quality: 'good',
    });
    const keys = [...Object.keys(good), 'reasons', 'extra'];
    const odd = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        '2026-06-21T12:00:00Z',
        '2026-06-21 12:00:00Z',
        '2026-13-21T12:00:00Z',
        '2026-06-21T12:00:00',
        '2026-06-21T12:00:00.123+02:00',
        'yesterday',
        '',
      ),
      fc.constantFrom(
        -1,
        0,
        1.5,
        2 ** 53,
        -(2 ** 31),
        null,
        'good',
        'suspect',
        'missing',
        'bad',
        `0x${'a'.repeat(40)}`,
        `0x${'b'.repeat(130)}`,
        'x'.repeat(65),
        ['r'],
        ['r'.repeat(201)],
      ),
    );
    const mutation = fc.record({
      edits: fc.array(fc.record({ key: fc.constantFrom(...keys), value: fc.option(odd, { nil: undefined }) }), {
        maxLength: 3,
      }),
      count: fc.constantFrom(0, 1, 2, 501),
      wrap: fc.constantFrom('readings', 'readings', 'other', 'array', 'single'),
    });
    let bothRefused = 0;
    let bothTook = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async ({ edits, count, wrap }) => {
        const r: Record<string, unknown> = { ...good };
        for (const e of edits) {
          if (e.value === undefined) delete r[e.key];
          else r[e.key] = e.value;
        }
        const list = Array.from({ length: count }, () => r);
        const body =
          wrap === 'readings'
            ? { readings: list }
            : wrap === 'other'
              ? { readings: list, more: 1 }
              : wrap === 'array'
                ? list
                : r;
        let mqttSchema = false;
        try {
          parseReadingsBody(body);
        } catch (err) {
          assert.ok(err instanceof MicrogridError && err.code === 'INVALID_INPUT', String(err));
          mqttSchema = true;
        }
        if (wrap === 'single') {
          // One bare reading is MQTT's alone; over HTTP it is the same check wrapped.
          const res = await app.inject({ method: 'POST', url: '/api/readings', payload: { readings: [r] } });
          assert.equal(
            res.statusCode === 400,
            mqttSchema,
            `single ${JSON.stringify(r).slice(0, 300)}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`,
          );
        } else {
          const res = await app.inject({ method: 'POST', url: '/api/readings', payload: body as object });
          assert.equal(
            res.statusCode === 400,
            mqttSchema,
            `${JSON.stringify(body).slice(0, 300)}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`,
          );
        }
        if (mqttSchema) bothRefused++;
        else bothTook++;
      }),
      fcParams('mqtt vs http readings schema', { numRuns: 300 }),
    );
    assert.ok(
      bothRefused > 0 && bothTook > 0,
      `both outcomes exercised (${bothRefused} refused, ${bothTook} passed the schema)`,
    );
    await app.close();
    ledger.close();
  },
);
