import type { BridgeDevice } from './bridge-device.js';
import type { DeviceReader } from './devices/measurement.js';
import { createPushMeter, type PushMeter } from './devices/mqtt-meter.js';
import { HealthTracker } from './health.js';
import { loadProfile } from './profiles/load.js';
import { ProfileReader } from './profiles/device.js';
import type { CounterGuard } from './readings/validate.js';
import { SunSpecReader } from './sunspec/device.js';
import type { BusPool } from './transport/bus-pool.js';

/** One device while the bridge runs: how it is read, its health, its meters' counter state. */
export interface DeviceRuntime {
  device: BridgeDevice;
  /** Polled devices (Modbus); null for MQTT meters, which push. */
  reader: DeviceReader | null;
  push: PushMeter | null;
  health: HealthTracker;
  guards: Map<string, CounterGuard>;
  lastRecordSlot: Map<string, number>;
  /** A poll or the set-up is running. */
  busy: boolean;
  /** The set-up in progress (queued or running), if any. */
  setup: Promise<void> | null;
  /** MQTT meters: market time of the last measurement taken. */
  lastPushTs: number | null;
}

export type PolledRuntime = DeviceRuntime & { reader: DeviceReader };
export type PushRuntime = DeviceRuntime & { push: PushMeter };

/** The reader (Modbus kinds, on the pool's bus for its transport) or the push parser (MQTT kinds) of one device. */
export function createRuntime(d: BridgeDevice, pool: BusPool, offlineAfterCycles: number): DeviceRuntime {
  const base = {
    device: d,
    health: new HealthTracker(d.id, offlineAfterCycles),
    guards: new Map(),
    lastRecordSlot: new Map(),
    busy: false,
    setup: null,
    lastPushTs: null,
  };
  if (d.transport.type === 'mqtt') {
    if (d.kind !== 'tasmota' && d.kind !== 'shelly-gen2')
      throw new Error(`device ${d.id}: kind ${d.kind} is not an MQTT kind`);
    const push = createPushMeter({
      deviceId: d.id,
      kind: d.kind,
      topic: d.transport.topic,
      meterId: d.meterId ?? d.id,
      role: d.role ?? 'grid',
      ...(d.tasmotaTotal ? { tasmotaTotal: d.tasmotaTotal } : {}),
    });
    return { ...base, reader: null, push };
  }
  const bus = pool.get(d.transport);
  const reader: DeviceReader =
    d.kind === 'sunspec'
      ? new SunSpecReader({ deviceId: d.id, bus, unitId: d.unitId, ...(d.meters ? { meters: d.meters } : {}) })
      : new ProfileReader({
          deviceId: d.id,
          bus,
          unitId: d.unitId,
          profile: typeof d.profile === 'object' ? d.profile : loadProfile(d.profile ?? ''),
          ...(d.meterId !== undefined ? { meterId: d.meterId } : {}),
        });
  return { ...base, reader, push: null };
}

export const isPolled = (rt: DeviceRuntime): rt is PolledRuntime => rt.reader !== null;
export const isPush = (rt: DeviceRuntime): rt is PushRuntime => rt.push !== null;
