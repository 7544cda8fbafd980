import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { validateConfig } from '../../core/config/validate.js';
import type { Config } from '../../core/config/schema.js';
import { openLedger, type Ledger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { advanceInterval } from '../../ledger/intervals.js';
import { saveClearing } from '../../ledger/clearing.js';
import { toIso } from '../../core/interval.js';
import type { ClearingResult } from '../../core/market.js';
import { buildDashboard } from '../../dashboard/app.js';
import { LiveBooks } from '../../app/live-books.js';
import { rulesFromConfig } from '../../matching-engine/index.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A small microgrid for the dashboard tests: three households (h01 and h02
 * with pv), one operator, one auditor and two household tokens, a ledger
 * with a few cleared, settled and committed intervals, and a bus the test
 * emits events on (standing in for the meter bridge, the engine and
 * settlement until issue 7 wires the real ones).
 */

export const TOKENS = {
  operator: 'operator-token-0123456789',
  auditor: 'auditor-token-0123456789',
  h01: 'household-h01-token-0123456789',
  h02: 'household-h02-token-0123456789',
} as const;

/** 2026-11-21 12:00 UTC: intervals of 15 minutes. */
export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
export const MIN15 = 15 * 60_000;

export function fixtureConfig(extra: Record<string, unknown> = {}): Config {
  const env = (name: string) => ({ env: name });
  return validateConfig({
    microgrid: { name: 'Test microgrid' },
    bridge: {
      devices: ['dev-h01', 'dev-h02', 'dev-h03'].map((id, i) => ({
        id,
        kind: 'simulated',
        transport: { type: 'tcp', host: '127.0.0.1', port: 15020 + i },
      })),
    },
    market: { intervalMinutes: 15, gateClosureSeconds: 300 },
    participants: [
      {
        id: 'h01',
        name: 'Household 01',
        zone: 'north',
        meters: [
          { id: 'h01-grid', role: 'grid', device: 'dev-h01' },
          { id: 'h01-pv', role: 'pv', device: 'dev-h01' },
        ],
        policy: { minSellPrice: '0.1000', maxBuyPrice: '0.2500' },
      },
      {
        id: 'h02',
        name: 'Household 02',
        zone: 'north',
        meters: [
          { id: 'h02-grid', role: 'grid', device: 'dev-h02' },
          { id: 'h02-pv', role: 'pv', device: 'dev-h02' },
        ],
        policy: {},
      },
      {
        id: 'h03',
        name: 'Household 03',
        zone: 'south',
        meters: [{ id: 'h03-grid', role: 'grid', device: 'dev-h03' }],
        policy: {},
      },
    ],
    auth: {
      tokens: [
        { token: env('T_OPERATOR'), role: 'operator' },
        { token: env('T_AUDITOR'), role: 'auditor' },
        { token: env('T_H01'), role: 'household', participant: 'h01' },
        { token: env('T_H02'), role: 'household', participant: 'h02' },
      ],
    },
    ...extra,
  });
}

export const ENV = { T_OPERATOR: TOKENS.operator, T_AUDITOR: TOKENS.auditor, T_H01: TOKENS.h01, T_H02: TOKENS.h02 };

export function clearing(
  start: number,
  price: string,
  trades: { buyer: string; seller: string; wh: number }[],
): ClearingResult {
  return {
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
      ruleSetVersion: 'test',
    },
    clearingPrice: price,
    matchedWh: trades.reduce((a, t) => a + t.wh, 0),
    surplus: '0.0100',
    trades: trades.map((t, i) => ({
      buyOrder: `b${i}`,
      sellOrder: `s${i}`,
      buyer: t.buyer,
      seller: t.seller,
      energyWh: t.wh,
      price,
      fee: '0.0000',
    })),
    remainders: [],
  };
}

/** Fills the ledger: interval T0 settled and committed with trades h01→h03 and h02→h03, the next two open. */
export function seedLedger(ledger: Ledger, config: Config): void {
  for (const p of config.participants) upsertParticipant(ledger, p, T0);
  const db = ledger.db;
  for (const s of ['open', 'closed', 'cleared', 'delivered', 'metered', 'settled', 'committed'] as const)
    advanceInterval(ledger, T0, s, T0 + MIN15 + 1000);
  advanceInterval(ledger, T0 + MIN15, 'open', T0 + MIN15);
  saveClearing(
    ledger,
    clearing(T0, '0.1500', [
      { buyer: 'h03', seller: 'h01', wh: 300 },
      { buyer: 'h03', seller: 'h02', wh: 200 },
    ]),
    T0 + MIN15 + 2000,
  );
  const energy = db.prepare(
    'INSERT INTO interval_energy (interval_start, meter_id, import_wh, export_wh, quality, first_reading_ts, last_reading_ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  energy.run(T0, 'h01-grid', 0, 400, 'good', T0, T0 + MIN15);
  energy.run(T0, 'h01-pv', 0, 900, 'good', T0, T0 + MIN15);
  energy.run(T0, 'h02-grid', 0, 200, 'good', T0, T0 + MIN15);
  energy.run(T0, 'h02-pv', 0, 500, 'good', T0, T0 + MIN15);
  energy.run(T0, 'h03-grid', 700, 0, 'good', T0, T0 + MIN15);
  const st = db.prepare(
    `INSERT INTO statements (interval_start, participant_id, bought_wh, sold_wh, grid_import_wh, grid_export_wh, paid, received, fees, grid_amount, net, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')`,
  );
  st.run(T0, 'h01', 0, 300, 0, 100, '0.00', '0.05', '0.00', '0.01', '0.06');
  st.run(T0, 'h02', 0, 200, 0, 0, '0.00', '0.03', '0.00', '0.00', '0.03');
  st.run(T0, 'h03', 500, 0, 200, 0, '0.08', '0.00', '0.00', '-0.06', '-0.14');
  const j = db.prepare(
    `INSERT INTO settlement_journal (interval_start, action, chunk, state, chain_id, nonce, tx_hash, created_at, updated_at) VALUES (?, ?, 0, ?, 31337, ?, ?, ?, ?)`,
  );
  j.run(T0, 'commit', 'final', 0, '0x' + 'a'.repeat(64), T0, T0 + MIN15 + 5000);
  j.run(T0, 'mint', 'final', 1, '0x' + 'b'.repeat(64), T0, T0 + MIN15 + 6000);
  db.prepare(
    `INSERT INTO settlement_credits (interval_start, export_wh, matched_wh, trades_root, readings_root, rule_set, credits, status, created_at, updated_at) VALUES (?, 600, 500, ?, ?, ?, ?, 'final', ?, ?)`,
  ).run(
    T0,
    '0x' + '1'.repeat(64),
    '0x' + '2'.repeat(64),
    '0x' + '3'.repeat(64),
    JSON.stringify([
      { account: '0x' + '0'.repeat(39) + '1', wh: 100, participants: ['h01'] },
      { account: '0x' + '0'.repeat(39) + '3', wh: 500, participants: ['h03'] },
    ]),
    T0,
    T0,
  );
  db.prepare(
    'INSERT INTO readings (meter_id, ts, power_w, import_wh, export_wh, quality, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run('h01-grid', T0 + 1000, -1600, 10, 5000, 'good', T0 + 1000);
}

export interface Fixture {
  ledger: Ledger;
  config: Config;
  clock: ManualClock;
  bus: EventBus;
  app: ReturnType<typeof buildDashboard>;
  /** The live books the app's order routes fill (as app/start.ts wires them). */
  books: LiveBooks;
}

export async function makeFixture(
  opts: { config?: Config; buildBundle?: boolean; readingGapMs?: number; now?: number; streamSliceMs?: number } = {},
): Promise<Fixture> {
  const config = opts.config ?? fixtureConfig();
  const ledger = openLedger(join(tempDir('mgx-dash-'), 'ledger.sqlite'));
  seedLedger(ledger, config);
  const clock = new ManualClock(opts.now ?? T0 + MIN15 + 60_000);
  const bus = new EventBus();
  const books = new LiveBooks(ledger, config, rulesFromConfig(config.market));
  const app = buildDashboard({
    ledger,
    config,
    clock,
    bus,
    forwardOrders: books,
    version: 'test',
    env: ENV,
    buildBundle: opts.buildBundle ?? false,
    ...(opts.readingGapMs === undefined ? {} : { readingGapMs: opts.readingGapMs }),
    ...(opts.streamSliceMs === undefined ? {} : { streamSliceMs: opts.streamSliceMs }),
  });
  await app.ready();
  return { ledger, config, clock, bus, app, books };
}

export const auth = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });
