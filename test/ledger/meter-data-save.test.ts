import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openLedger } from '../../ledger/ledger.js';
import { upsertParticipant } from '../../ledger/participants.js';
import { listMeterHolds, saveMeterIntervalEnergies, type StoredMeterIntervalEnergy } from '../../ledger/meter-data.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-06-21T09:00:00Z');

const energy = (
  meterId: string,
  status: StoredMeterIntervalEnergy['status'],
  start = T0,
): StoredMeterIntervalEnergy => ({
  intervalStart: start,
  meterId,
  importWh: 10,
  exportWh: 20,
  status,
  reasons: status === 'held' ? [{ code: 'VEE_GAP', message: 'a gap' }] : [],
  method: null,
  firstReadingTs: start,
  lastReadingTs: start + 900_000,
  receivedBy: start + 960_000,
});

// The step reads the undecided holds of an interval once instead of deleting once per meter: a meter no longer held
// still leaves the queue, one held in another interval or a meter saved held and then not in the same call too.
test('saveMeterIntervalEnergies: a grid meter held, then not, leaves the queue; others stay', () => {
  const l = openLedger(join(tempDir(), 'l.sqlite'));
  for (const id of ['a', 'b', 'c'])
    upsertParticipant(l, { id, name: id, zone: 'north', meters: [{ id: `${id}-grid`, role: 'grid' }], policy: {} }, 1);
  const held = (): string[] => listMeterHolds(l, { pending: true }).map((h) => `${h.meterId}@${h.intervalStart - T0}`);
  saveMeterIntervalEnergies(l, [energy('a-grid', 'held'), energy('b-grid', 'held'), energy('c-grid', 'actual')], 1);
  saveMeterIntervalEnergies(l, [energy('a-grid', 'held', T0 + 900_000)], 2);
  assert.deepEqual(held(), ['a-grid@0', 'b-grid@0', 'a-grid@900000']);
  saveMeterIntervalEnergies(l, [energy('a-grid', 'actual'), energy('b-grid', 'held'), energy('c-grid', 'actual')], 3);
  assert.deepEqual(held(), ['b-grid@0', 'a-grid@900000']);
  saveMeterIntervalEnergies(l, [energy('c-grid', 'held'), energy('c-grid', 'estimated')], 4);
  assert.deepEqual(held(), ['b-grid@0', 'a-grid@900000']);
  l.close();
});
