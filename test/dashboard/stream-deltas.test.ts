import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeFixture } from './fixture.js';
import { fcParams } from '../helpers/fc.js';
import { EventBus, type MicrogridEvent, type ReadingQuality } from '../../core/events.js';
import { listMeters } from '../../ledger/participants.js';
import { LiveHub, type HubFrame } from '../../dashboard/live/hub.js';
import { ViewCutter } from '../../dashboard/live/views.js';
import {
  applyDelta,
  type Balance,
  type DeltaFrame,
  type LiveState,
  type SnapshotFrame,
} from '../../dashboard/live/model.js';
import type { Principal } from '../../dashboard/auth.js';
import { Value } from '@sinclair/typebox/value';
import { DeltaSchema, SnapshotSchema } from '../../dashboard/live/schema.js';

// The stream's deltas are real: a delta names only what changed, and snapshot + deltas rebuild exactly the next
// snapshot, in every view. The hub and the view cutter are driven directly (no sockets): the wire bytes are the ones
// routes/stream.ts sends.

const f = await makeFixture();
after(() => f.app.close());

const VIEWS: [string, Principal | null][] = [
  ['operator', { role: 'operator', participant: null, key: 'op' }],
  ['auditor', { role: 'auditor', participant: null, key: 'au' }],
  ['h01', { role: 'household', participant: 'h01', key: 'h01' }],
  ['h02', { role: 'household', participant: 'h02', key: 'h02' }],
  ['h03', { role: 'household', participant: 'h03', key: 'h03' }],
  ['public', null],
];

/** A hub on the fixture's ledger with a bus and a wall clock of its own, the frames it makes, and its views. */
function rig() {
  const bus = new EventBus();
  let now = 1_000_000;
  const hub = new LiveHub({
    ledger: f.ledger,
    config: f.config,
    clock: f.clock,
    bus,
    replayFrames: 10,
    readingGapMs: 1,
    now: () => now,
  });
  const deviceOfMeter = new Map(listMeters(f.ledger).flatMap((m) => (m.deviceId ? [[m.id, m.deviceId] as const] : [])));
  const cutter = new ViewCutter(deviceOfMeter);
  const frames: HubFrame[] = [];
  hub.subscribe((fr) => frames.push(fr));
  const snapshot = (p: Principal | null): LiveState => {
    const s = JSON.parse(JSON.stringify(cutter.snapshot(hub.state, hub.seq, p, 0))) as SnapshotFrame;
    assert.ok(Value.Check(SnapshotSchema, s), 'the snapshot is what its schema says');
    return s.state;
  };
  /** Emits one batch (one frame) and waits for the hub to cut it; the wall clock moves on past every slot. */
  const frame = async (events: MicrogridEvent[]): Promise<void> => {
    now += 5000;
    for (const e of events) bus.emit(e);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  };
  return { hub, cutter, frames, snapshot, frame, bus };
}

/** A client of each view: its snapshot, then every delta of the view applied as the page applies them. */
function clients(r: ReturnType<typeof rig>) {
  const states = new Map(VIEWS.map(([name, p]) => [name, r.snapshot(p)]));
  let applied = r.hub.seq;
  const wire: Map<string, DeltaFrame>[] = [];
  return {
    wire,
    /** Applies the frames made since the last call; returns their cut per view. */
    catchUp(): Map<string, DeltaFrame>[] {
      const fresh: Map<string, DeltaFrame>[] = [];
      for (const fr of r.frames.filter((x) => x.seq > applied)) {
        const cut = new Map<string, DeltaFrame>();
        for (const [name, p] of VIEWS) {
          const d = JSON.parse(r.cutter.delta(fr, p).toString()) as DeltaFrame;
          assert.ok(
            Value.Check(DeltaSchema, d),
            `view ${name}, frame ${fr.seq}: ${[...Value.Errors(DeltaSchema, d)].map((e) => `${e.path} ${e.message}`).join('; ')}`,
          );
          cut.set(name, d);
          // A resync is a snapshot fetched again (the page reconnects without `since`).
          if (d.resync) states.set(name, r.snapshot(p));
          else applyDelta(states.get(name)!, d);
        }
        wire.push(cut);
        fresh.push(cut);
        applied = fr.seq;
      }
      return fresh;
    },
    check(label: string): void {
      for (const [name, p] of VIEWS) assert.deepEqual(states.get(name), r.snapshot(p), `${label}: view ${name}`);
    },
  };
}

const reading = (meterId: string, ts: string, powerW: number, quality: ReadingQuality = 'good'): MicrogridEvent => ({
  type: 'reading',
  meterId,
  ts,
  powerW,
  importWh: 1000 + Math.abs(powerW),
  exportWh: 2000,
  voltageV: 230,
  frequencyHz: 50,
  quality,
});
const iso = (ms: number) => new Date(ms).toISOString();

test('one meter read anew: the next delta names that meter only, and the balance fields that moved', async () => {
  const r = rig();
  const c = clients(r);
  const t0 = Date.parse('2026-11-21T12:16:00Z');
  await r.frame([
    { type: 'device-health', deviceId: 'dev-h01', status: 'online', lastError: null, lastPollAt: iso(t0) },
    { type: 'device-health', deviceId: 'dev-h02', status: 'online', lastError: null, lastPollAt: iso(t0) },
    { type: 'device-health', deviceId: 'dev-h03', status: 'online', lastError: null, lastPollAt: iso(t0) },
    reading('h01-grid', iso(t0 + 1000), 300),
    reading('h01-pv', iso(t0 + 1000), -1200),
    reading('h02-grid', iso(t0 + 1000), 800),
    reading('h02-pv', iso(t0 + 1000), -400),
    reading('h03-grid', iso(t0 + 1000), 500),
  ]);
  c.catchUp();
  c.check('all read');
  const before = r.snapshot(null).balance;
  await r.frame([reading('h02-grid', iso(t0 + 2000), 1100)]);
  c.catchUp();
  c.check('one meter read');
  const after_ = r.snapshot(null).balance;
  const moved = (Object.keys(after_) as (keyof Balance)[]).filter((k) => before[k] !== after_[k]).sort();
  assert.ok(moved.length > 0, 'the new reading moved the balance');
  const d = c.wire.at(-1)!;
  const op = d.get('operator')!;
  assert.deepEqual(Object.keys(op.readings ?? {}), ['h02-grid']);
  assert.deepEqual(op.readings!['h02-grid'], [1100, 2100, 2000]);
  assert.equal(op.ts, iso(t0 + 2000));
  assert.equal(op.meters, undefined, 'no other meter field moved');
  assert.equal(op.gone, undefined);
  assert.deepEqual(Object.keys(op.balance ?? {}).sort(), moved);
  assert.deepEqual(op.events, []);
  assert.deepEqual(d.get('auditor'), op, 'operator and auditor see the same frame');
  assert.deepEqual(Object.keys(d.get('h02')!.readings ?? {}), ['h02-grid']);
  assert.equal(d.get('h01')!.readings, undefined, "h01 does not see h02's reading");
  assert.equal(d.get('public')!.readings, undefined);
  assert.deepEqual(d.get('public')!.balance, op.balance, 'every view has the aggregate');
  const bytes = r.cutter.delta(r.frames.at(-1)!, VIEWS[0]![1]).length;
  assert.ok(bytes < 400, `one meter's delta is small (${bytes} B)`);
  r.hub.close();
});

test('a meter that changes hands: both households start again from a snapshot, the operator gets the field', async () => {
  const r = rig();
  const c = clients(r);
  const t0 = Date.parse('2026-11-21T12:16:00Z');
  await r.frame([reading('h01-pv', iso(t0), -900)]);
  c.catchUp();
  f.ledger.db.prepare("UPDATE meters SET participant_id = 'h02' WHERE id = 'h01-pv'").run();
  try {
    r.hub.refreshMeters();
    await r.frame([reading('h01-pv', iso(t0 + 1000), -950)]);
    c.catchUp();
    const d = c.wire.at(-1)!;
    assert.equal(d.get('h01')!.resync, true);
    assert.equal(d.get('h02')!.resync, true);
    assert.equal(d.get('h03')!.resync, undefined, 'a household the move does not touch goes on');
    // Its owner and its reading moved together: one patch of the fields that moved.
    assert.deepEqual(d.get('operator')!.meters, {
      'h01-pv': { participantId: 'h02', powerW: -950, importWh: 1950, ts: iso(t0 + 1000) },
    });
    assert.equal(d.get('operator')!.readings, undefined);
    c.check('after the move');
    assert.ok('h01-pv' in r.snapshot(VIEWS[3]![1]).meters, 'h02 now sees the meter');
    assert.ok(!('h01-pv' in r.snapshot(VIEWS[2]![1]).meters), 'h01 no longer does');
  } finally {
    f.ledger.db.prepare("UPDATE meters SET participant_id = 'h01' WHERE id = 'h01-pv'").run();
    r.hub.close();
  }
});

test('a meter gone from the state is named in `gone`, and applying it removes the meter', async () => {
  const r = rig();
  const c = clients(r);
  await r.frame([reading('x-stray', '2026-11-21T12:16:00.000Z', 10)]);
  c.catchUp();
  assert.deepEqual(Object.keys(c.wire.at(-1)!.get('operator')!.meters ?? {}), ['x-stray'], 'a new meter: all of it');
  // No path of the hub drops a meter today; the format carries it for when one does.
  delete r.hub.state.meters['x-stray'];
  await r.frame([reading('h03-grid', '2026-11-21T12:16:01.000Z', 20)]);
  c.catchUp();
  assert.deepEqual(c.wire.at(-1)!.get('operator')!.gone, ['x-stray']);
  c.check('after the meter went');
  r.hub.close();
});

const METERS = ['h01-grid', 'h01-pv', 'h02-grid', 'h02-pv', 'h03-grid', 'x-stray'];
const DEVICES = ['dev-h01', 'dev-h02', 'dev-h03'];
const SUBJECTS = [...METERS, ...DEVICES, 'chain', '2026-11-21T12:00:00Z'];

const op = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('reading' as const),
      meter: fc.constantFrom(...METERS),
      power: fc.integer({ min: -5000, max: 5000 }),
      quality: fc.constantFrom<ReadingQuality>('good', 'good', 'suspect', 'missing'),
      skew: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('device' as const),
      device: fc.constantFrom(...DEVICES),
      status: fc.constantFrom('online' as const, 'stale' as const, 'offline' as const, 'asleep' as const),
      polled: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('alarm' as const),
      subject: fc.constantFrom(...SUBJECTS),
      code: fc.constantFrom('A', 'B'),
      severity: fc.constantFrom('critical' as const, 'warning' as const, 'info' as const),
      clears: fc.option(fc.constantFrom('A', 'B'), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('settlement' as const),
      interval: fc.constantFrom('2026-11-21T12:00:00Z', '2026-11-21T11:45:00Z'),
      state: fc.constantFrom('committed', 'final', 'error'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('interval' as const),
      interval: fc.constantFrom('2026-11-21T12:15:00Z', '2026-11-21T12:00:00Z'),
      state: fc.constantFrom('open', 'closed', 'cleared', 'metered'),
    }),
  },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function eventOf(o: Op, at: string, ts: string, alarmNo: number): MicrogridEvent {
  switch (o.kind) {
    case 'reading':
      return reading(o.meter, ts, o.power, o.quality);
    case 'device':
      return {
        type: 'device-health',
        deviceId: o.device,
        status: o.status,
        lastError: o.status === 'online' ? null : 'timeout',
        lastPollAt: o.polled ? at : null,
      };
    case 'alarm':
      return {
        type: 'alarm',
        severity: o.severity,
        code: o.code,
        subject: o.subject,
        message: `alarm ${alarmNo}`,
        at,
        ...(o.clears ? { clears: o.clears } : {}),
      };
    case 'settlement':
      return { type: 'settlement-state', interval: o.interval, state: o.state, txHash: null };
    case 'interval':
      return { type: 'interval-state', interval: o.interval, state: o.state, at };
  }
}

test('property: over random changes, snapshot + deltas is the next snapshot in every view, and a delta names exactly the meters that changed', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(op, { minLength: 0, maxLength: 8 }), { minLength: 1, maxLength: 12 }),
      async (batches) => {
        const r = rig();
        const c = clients(r);
        try {
          let clock = Date.parse('2026-11-21T12:16:00Z');
          let alarms = 0;
          for (const [i, batch] of batches.entries()) {
            clock += 3000;
            // Fewer alarms than MAX_ALARMS: past it the server drops the oldest of all, which a household cannot see.
            const events = batch
              .filter((o) => o.kind !== 'alarm' || alarms < 40)
              .map((o, k) =>
                eventOf(
                  o,
                  iso(clock + k),
                  iso(clock + (o.kind === 'reading' ? o.skew : 0)),
                  o.kind === 'alarm' ? alarms++ : 0,
                ),
              );
            const before = r.snapshot(VIEWS[0]![1]);
            await r.frame(events);
            const fresh = c.catchUp();
            c.check(`batch ${i}`);
            const now = r.snapshot(VIEWS[0]![1]);
            const changed = Object.keys(now.meters)
              .filter((id) => JSON.stringify(now.meters[id]) !== JSON.stringify(before.meters[id]))
              .sort();
            // Usually one frame per batch; the hub's 1 s ticker may add one (reporting moved); an empty batch makes none.
            const fulls = fresh.map((x) => x.get('operator')!);
            const named = new Set(
              fulls.flatMap((d) => [...Object.keys(d.readings ?? {}), ...Object.keys(d.meters ?? {})]),
            );
            assert.deepEqual(
              [...named].sort(),
              changed,
              `batch ${i}: the deltas name the meters that changed, no other`,
            );
            if (fulls.length === 1) {
              const moved = (Object.keys(now.balance) as (keyof Balance)[])
                .filter((k) => !Object.is(now.balance[k], before.balance[k]))
                .sort();
              assert.deepEqual(
                Object.keys(fulls[0]!.balance ?? {}).sort(),
                moved,
                `batch ${i}: the balance fields that moved`,
              );
            }
          }
        } finally {
          r.hub.close();
        }
      },
    ),
    fcParams('stream deltas rebuild the snapshot', { numRuns: 60 }),
  );
});
