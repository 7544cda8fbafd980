import type { MqttSpec } from './devices/mqtt-meter.js';
import type { TasmotaTotal } from './devices/tasmota.js';
import type { Profile } from './profiles/load.js';
import type { BusSpec } from './transport/types.js';

/** One device the bridge reads (a bridge.devices entry of microgrid.yaml, resolved). */
export interface BridgeDevice {
  id: string;
  /**
   * sunspec, profile: polled over Modbus (transport tcp/rtu); tasmota, shelly-gen2: push over MQTT (transport mqtt).
   */
  kind: 'sunspec' | 'profile' | 'tasmota' | 'shelly-gen2';
  transport: BusSpec | MqttSpec;
  /** Modbus kinds only (0 for MQTT kinds). */
  unitId: number;
  /** Built-in profile name (sdm630, sdm120, em24), a profile file path, or a parsed profile; kind profile only. */
  profile?: string | Profile;
  /** Largest plausible power of the meter(s), W: counters that grow faster are suspect. */
  ratedPowerW?: number;
  /** SunSpec: which meter id the meter model and the inverter model feed (default: the device id for the one found). */
  meters?: { grid?: string; pv?: string };
  /** Profile, MQTT kinds: the meter id (default: the device id). */
  meterId?: string;
  /**
   * MQTT kinds: which meter the device is (pv swaps the directions: what it counts as drawn is the inverter's output).
   * Default grid.
   */
  role?: 'grid' | 'pv';
  /** tasmota: what ENERGY.Total counts (import, or import − export on chips that meter both ways). */
  tasmotaTotal?: TasmotaTotal;
}
