import { Type } from '@sinclair/typebox';

/**
 * TypeBox schemas of the stream's frames (dashboard/live/model.ts): the
 * snapshot, also the response of GET /api/state and in OpenAPI, and the
 * delta. Kept apart from model.ts so the browser bundle does not carry
 * TypeBox.
 */
const N = (t: ReturnType<typeof Type.Number> | ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>) =>
  Type.Union([t, Type.Null()]);

const MeterLive = Type.Object({
  meterId: Type.String(),
  participantId: N(Type.String()),
  role: Type.Union([Type.Literal('grid'), Type.Literal('pv'), Type.Null()]),
  deviceId: N(Type.String()),
  powerW: N(Type.Number({ description: '+ flows in from the grid (import), − flows out (export, pv production)' })),
  importWh: N(Type.Integer()),
  exportWh: N(Type.Integer()),
  ts: N(Type.String()),
  quality: N(Type.String()),
});

const Balance = Type.Object({
  generationW: N(Type.Number()),
  consumptionW: N(Type.Number()),
  netGridW: N(Type.Number()),
  gridImportW: N(Type.Number()),
  gridExportW: N(Type.Number()),
  localW: N(Type.Number()),
  selfSufficiency: N(Type.Number()),
  metersReporting: Type.Integer(),
  metersKnown: Type.Integer(),
  tradedWhInterval: Type.Integer(),
  tradedWhToday: Type.Integer(),
  lastClearingPrice: N(Type.String()),
  lastClearedInterval: N(Type.String()),
});

const Alarm = Type.Object({
  type: Type.Literal('alarm'),
  severity: Type.String(),
  code: Type.String(),
  message: Type.String(),
  subject: Type.String(),
  at: Type.String(),
  clears: Type.Optional(Type.String({ description: 'the code of the alarm (same subject) this event ends' })),
  clearedAt: Type.Optional(Type.String({ description: 'when the condition ended; absent while current' })),
});
const Cleared = Type.Object({
  type: Type.Literal('interval-cleared'),
  interval: Type.String(),
  kind: Type.String(),
  clearingPrice: N(Type.String()),
  matchedWh: Type.Integer(),
  trades: Type.Integer(),
});
const Settlement = Type.Object({
  type: Type.Literal('settlement-state'),
  interval: Type.String(),
  state: Type.String(),
  txHash: N(Type.String()),
});
const Device = Type.Object({
  deviceId: Type.String(),
  status: Type.String(),
  lastError: N(Type.String()),
  lastPollAt: N(Type.String()),
});

export const SnapshotSchema = Type.Object({
  type: Type.Literal('snapshot'),
  seq: Type.Integer(),
  t: Type.Integer(),
  market: Type.Integer({ description: 'the market clock (epoch ms) when the frame was cut' }),
  state: Type.Object({
    microgrid: Type.String(),
    currency: Type.String(),
    intervalMinutes: Type.Integer(),
    currentInterval: N(Type.String()),
    currentIntervalState: N(Type.String()),
    meters: Type.Record(Type.String(), MeterLive),
    devices: Type.Record(Type.String(), Device),
    alarms: Type.Array(Alarm),
    lastCleared: Type.Union([Cleared, Type.Null()]),
    settlements: Type.Array(Settlement),
    lastMetered: N(Type.String()),
    balance: Balance,
  }),
});

const Interval = Type.Object({
  type: Type.Literal('interval-state'),
  interval: Type.String(),
  state: Type.String(),
  at: Type.String(),
});
const DeviceHealth = Type.Object({
  type: Type.Literal('device-health'),
  deviceId: Type.String(),
  status: Type.String(),
  lastError: N(Type.String()),
  lastPollAt: N(Type.String()),
});
const Num = N(Type.Number());
const Quality = Type.Union([Type.Literal('good'), Type.Literal('suspect'), Type.Literal('missing')]);

/**
 * TypeBox schema of a delta frame (DeltaFrame in model.ts): what changed since the previous frame of the view.
 * Everything but the header and `events` is absent when nothing of it changed.
 */
export const DeltaSchema = Type.Object(
  {
    type: Type.Literal('delta'),
    seq: Type.Integer(),
    t: Type.Integer({ description: 'server wall time (epoch ms) the first event of the frame arrived' }),
    market: Type.Integer({ description: 'the market clock (epoch ms) when the frame was cut' }),
    resync: Type.Optional(
      Type.Literal(true, { description: "the view's scope changed (a meter changed hands): fetch a snapshot" }),
    ),
    ts: Type.Optional(Type.String({ description: 'the time of every reading below that does not give its own' })),
    quality: Type.Optional(Quality),
    readings: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Union([
          Type.Tuple([Num, Num, Num]),
          Type.Tuple([Num, Num, Num, N(Type.String())]),
          Type.Tuple([Num, Num, Num, N(Type.String()), Quality]),
        ]),
        { description: 'meters with a new reading: [powerW, importWh, exportWh, ts?, quality?]' },
      ),
    ),
    meters: Type.Optional(
      Type.Record(Type.String(), Type.Partial(MeterLive), {
        description: 'other changes of a meter: the fields that moved (a meter new to the view: every field)',
      }),
    ),
    gone: Type.Optional(Type.Array(Type.String(), { description: 'meters no longer in the state' })),
    balance: Type.Optional(Type.Partial(Balance, { description: 'the balance fields that moved' })),
    current: Type.Optional(Type.Object({ interval: Type.String(), state: N(Type.String()) })),
    events: Type.Array(Type.Union([DeviceHealth, Interval, Cleared, Settlement, Alarm]), {
      description: 'every event of the frame but readings, in order',
    }),
  },
  { additionalProperties: false },
);
