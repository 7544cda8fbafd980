import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvent, currentAlarms, emptyBalance, type LiveState } from '../../dashboard/live/model.js';
import type { AlarmEvent } from '../../core/events.js';

const state = (): LiveState => ({
  microgrid: 'm',
  currency: 'EUR',
  intervalMinutes: 5,
  currentInterval: null,
  currentIntervalState: null,
  meters: {},
  devices: {},
  alarms: [],
  lastCleared: null,
  settlements: [],
  lastMetered: null,
  balance: emptyBalance(),
});
const alarm = (
  code: string,
  subject: string,
  at: string,
  severity: AlarmEvent['severity'] = 'warning',
): AlarmEvent => ({ type: 'alarm', severity, code, subject, message: `${code} ${subject}`, at });
const codes = (s: LiveState) => currentAlarms(s).map((a) => `${a.code} ${a.subject}`);

test("an interval's alarm is in force until a later interval is metered; then it is history only", () => {
  const s = state();
  applyEvent(s, alarm('METER_DATA_MISSING', '2026-06-21T10:00:00.000Z', '2026-06-21T10:07:00.000Z'));
  applyEvent(s, {
    type: 'interval-state',
    interval: '2026-06-21T10:00:00.000Z',
    state: 'metered',
    at: '2026-06-21T10:07:00.000Z',
  });
  assert.deepEqual(codes(s), ['METER_DATA_MISSING 2026-06-21T10:00:00.000Z']);
  applyEvent(s, {
    type: 'interval-state',
    interval: '2026-06-21T10:05:00.000Z',
    state: 'metered',
    at: '2026-06-21T10:12:00.000Z',
  });
  assert.deepEqual(codes(s), []);
  assert.equal(s.alarms.length, 1, 'kept in the history');
});

test('a device: one entry in force in one format (its alarm, or its status when it has none), gone when it is online; the recovery ends it', () => {
  const s = state();
  applyEvent(s, {
    type: 'device-health',
    deviceId: 'd1',
    status: 'stale',
    lastError: 'timeout',
    lastPollAt: '2026-06-21T10:00:01.000Z',
  });
  assert.deepEqual(codes(s), ['DEVICE_STALE d1']);
  applyEvent(s, {
    type: 'device-health',
    deviceId: 'd1',
    status: 'offline',
    lastError: 'timeout',
    lastPollAt: '2026-06-21T10:00:03.000Z',
  });
  applyEvent(s, alarm('DEVICE_OFFLINE', 'd1', '2026-06-21T10:00:03.000Z', 'critical'));
  assert.deepEqual(codes(s), ['DEVICE_OFFLINE d1'], 'not also a derived DEVICE_OFFLINE');
  applyEvent(s, {
    type: 'device-health',
    deviceId: 'd1',
    status: 'online',
    lastError: 'timeout',
    lastPollAt: '2026-06-21T10:00:09.000Z',
  });
  assert.deepEqual(codes(s), []);
  assert.equal(s.devices.d1!.lastError, null, 'an online device carries no error');
  // The chain: ended only by its recovery alarm.
  applyEvent(s, alarm('CHAIN_UNAVAILABLE', 'chain', '2026-06-21T10:01:00.000Z', 'critical'));
  applyEvent(s, {
    type: 'interval-state',
    interval: '2026-06-21T10:05:00.000Z',
    state: 'metered',
    at: '2026-06-21T10:12:00.000Z',
  });
  assert.deepEqual(codes(s), ['CHAIN_UNAVAILABLE chain']);
  applyEvent(s, alarm('CHAIN_AVAILABLE', 'chain', '2026-06-21T10:13:00.000Z', 'info'));
  assert.deepEqual(codes(s), []);
});

test('a sleeping device is no alarm in force (it answered), though stale and offline ones are', () => {
  const s = state();
  applyEvent(s, {
    type: 'device-health',
    deviceId: 'inv1',
    status: 'asleep',
    lastError: null,
    lastPollAt: '2026-06-21T22:00:00.000Z',
  });
  applyEvent(s, {
    type: 'device-health',
    deviceId: 'd2',
    status: 'stale',
    lastError: 'timeout',
    lastPollAt: '2026-06-21T22:00:00.000Z',
  });
  assert.deepEqual(codes(s), ['DEVICE_STALE d2']);
});

test("a reading moves its device's last poll", () => {
  const s = state();
  s.meters.m1 = {
    meterId: 'm1',
    participantId: 'p',
    role: 'grid',
    deviceId: 'd1',
    powerW: null,
    importWh: null,
    exportWh: null,
    ts: null,
    quality: null,
  };
  applyEvent(s, {
    type: 'device-health',
    deviceId: 'd1',
    status: 'online',
    lastError: null,
    lastPollAt: '2026-06-21T10:00:01.000Z',
  });
  applyEvent(s, {
    type: 'reading',
    meterId: 'm1',
    ts: '2026-06-21T10:30:00.000Z',
    powerW: 5,
    importWh: 1,
    exportWh: 0,
    voltageV: null,
    frequencyHz: null,
    quality: 'good',
  });
  assert.equal(s.devices.d1!.lastPollAt, '2026-06-21T10:30:00.000Z');
});
