import type { Ledger } from './ledger.js';
import type { ParticipantConfig } from '../core/config/schema.js';

export interface ParticipantRow {
  id: string;
  name: string;
  zone: string;
  account: string | null;
  minSellPrice: string | null;
  maxBuyPrice: string | null;
}

export interface MeterRow {
  id: string;
  participantId: string;
  role: 'grid' | 'pv';
  deviceId: string | null;
  ratedPowerW: number | null;
  gateway: string | null;
}

/**
 * Inserts or updates a participant and its meters in one transaction.
 * Standing prices: the config's policy is applied when the participant is new
 * or when the config's policy changed since it was last applied; otherwise the
 * ledger keeps what the household set through the API since, so a restart does
 * not undo it.
 */
export function upsertParticipant(ledger: Ledger, p: ParticipantConfig, now: number): void {
  const db = ledger.db;
  const configPolicy = JSON.stringify({ minSell: p.policy.minSellPrice ?? null, maxBuy: p.policy.maxBuyPrice ?? null });
  const policyKey = `participant.${p.id}.configPolicy`;
  ledger.tx(() => {
    const exists = db.prepare('SELECT 1 FROM participants WHERE id = ?').get(p.id) !== undefined;
    const applyPolicy = !exists || ledger.getKv(policyKey) !== configPolicy;
    db.prepare(
      `INSERT INTO participants (id, name, zone, account, min_sell_price, max_buy_price, created_at, updated_at)
       VALUES (@id, @name, @zone, @account, @minSell, @maxBuy, @now, @now)
       ON CONFLICT(id) DO UPDATE SET name = excluded.name, zone = excluded.zone, account = excluded.account,
         min_sell_price = CASE WHEN @applyPolicy THEN excluded.min_sell_price ELSE min_sell_price END,
         max_buy_price = CASE WHEN @applyPolicy THEN excluded.max_buy_price ELSE max_buy_price END,
         updated_at = excluded.updated_at`,
    ).run({
      id: p.id,
      name: p.name,
      zone: p.zone,
      account: p.account ?? null,
      minSell: p.policy.minSellPrice ?? null,
      maxBuy: p.policy.maxBuyPrice ?? null,
      now,
      applyPolicy: applyPolicy ? 1 : 0,
    });
    ledger.setKv(policyKey, configPolicy);
    const meter = db.prepare(
      `INSERT INTO meters (id, participant_id, role, device_id, rated_power_w) VALUES (@id, @pid, @role, @device, @rated)
       ON CONFLICT(id) DO UPDATE SET participant_id = excluded.participant_id, role = excluded.role,
         device_id = excluded.device_id, rated_power_w = excluded.rated_power_w`,
    );
    for (const m of p.meters)
      meter.run({ id: m.id, pid: p.id, role: m.role, device: m.device ?? null, rated: m.ratedPowerW ?? null });
  });
}

export function listParticipants(ledger: Ledger): ParticipantRow[] {
  return ledger.db
    .prepare(
      'SELECT id, name, zone, account, min_sell_price AS minSellPrice, max_buy_price AS maxBuyPrice FROM participants ORDER BY id',
    )
    .all() as ParticipantRow[];
}

export function listMeters(ledger: Ledger, participantId?: string): MeterRow[] {
  const sql = `SELECT id, participant_id AS participantId, role, device_id AS deviceId, rated_power_w AS ratedPowerW, gateway
               FROM meters ${participantId === undefined ? '' : 'WHERE participant_id = ?'} ORDER BY id`;
  const stmt = ledger.db.prepare(sql);
  return (participantId === undefined ? stmt.all() : stmt.all(participantId)) as MeterRow[];
}

/**
 * Records which bridge device reads a meter. The config names it (`meters[].device`); the demo's
 * simulated households are named by the app at start, so it records theirs here too.
 */
export function setMeterDevice(ledger: Ledger, meterId: string, deviceId: string): void {
  ledger.db.prepare('UPDATE meters SET device_id = ? WHERE id = ?').run(deviceId, meterId);
}
