import { isMicrogridError } from '../../core/errors.js';
import type { ModbusDeviceConfig } from '../../core/config/schema.js';
import { loadProfile } from '../../meter-bridge/profiles/load.js';
import { decodeValue } from '../../meter-bridge/registers/decode.js';
import { TYPE_WORDS } from '../../meter-bridge/registers/types.js';
import { SUNSPEC_BASES } from '../../meter-bridge/sunspec/discover.js';
import type { BusSpec, ModbusBus } from '../../meter-bridge/transport/types.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

const SUNS = [0x5375, 0x6e53] as const;

export function busSpecOf(d: ModbusDeviceConfig): BusSpec {
  return d.transport.type === 'tcp'
    ? { type: 'tcp', host: d.transport.host, port: d.transport.port }
    : { type: 'rtu', path: d.transport.path, baudRate: d.transport.baudRate, parity: d.transport.parity };
}

/** What an error of one read says to an operator: most often the unit id, sometimes the wiring. */
function readFailure(d: ModbusDeviceConfig, err: unknown, what: string): ProbeResult {
  const unit = `unit ${d.unitId}`;
  if (isMicrogridError(err, 'MODBUS_TIMEOUT')) {
    return {
      ok: false,
      detail: `${unit} did not answer ${what} (${err.message}): check unitId (the device's Modbus address, set on its display or DIP switches)${d.transport.type === 'rtu' ? ', the baud rate, parity and the A/B wiring' : ''}`,
    };
  }
  if (isMicrogridError(err, 'MODBUS_EXCEPTION') && (err.value === 10 || err.value === 11)) {
    // 10/11 come from a gateway: it has no path to, or no answer from, a device with that unit id.
    return {
      ok: false,
      detail: `the gateway has no device at ${unit} (Modbus exception ${String(err.value)} to ${what}): check unitId`,
    };
  }
  if (isMicrogridError(err, 'MODBUS_EXCEPTION')) {
    return {
      ok: false,
      detail: `${unit} refused ${what} (Modbus exception ${String(err.value)}): ${d.kind === 'profile' ? `check that profile ${d.profile ?? '?'} is this meter's register map` : 'check that it is a SunSpec device'}`,
    };
  }
  return { ok: false, detail: `${unit}: ${(err as Error).message ?? String(err)} reading ${what}` };
}

/**
 * Reads one register block that proves the device is what the config says,
 * with its unit id: the SunSpec marker ("SunS" at 40000, 50000 or 0) of a
 * SunSpec device, or the first point of a profile device's register map.
 * A TCP connection alone proves neither the unit id nor the kind.
 */
export async function probeDevice(d: ModbusDeviceConfig, bus: ModbusBus): Promise<ProbeResult> {
  if (d.kind === 'sunspec') {
    const seen: string[] = [];
    for (const base of SUNSPEC_BASES) {
      let words: number[];
      try {
        words = await bus.read({ unitId: d.unitId, fc: 3, address: base, count: 2 });
      } catch (err) {
        // Exception 2 (no register there) is how a device without a map at this base answers: try the next one.
        if (isMicrogridError(err, 'MODBUS_EXCEPTION') && err.value === 2) {
          seen.push(`${base}: exception 2`);
          continue;
        }
        return readFailure(d, err, `register ${base}`);
      }
      if (words[0] === SUNS[0] && words[1] === SUNS[1])
        return { ok: true, detail: `unit ${d.unitId} answers: SunSpec marker "SunS" at ${base}` };
      seen.push(`${base}: 0x${words.map((w) => w.toString(16).padStart(4, '0')).join('')}`);
    }
    return {
      ok: false,
      detail: `unit ${d.unitId} answers but has no SunSpec marker "SunS" (${seen.join(', ')}): not a SunSpec device — a meter such as an SDM630 needs kind: profile and profile: sdm630 (check it with mgx scan --profile NAME)`,
    };
  }
  if (d.kind === 'profile') {
    if (!d.profile)
      return {
        ok: false,
        detail: 'kind: profile needs profile: NAME (sdm630, sdm120, em24) or the path of a profile file',
      };
    let profile;
    try {
      profile = loadProfile(d.profile);
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
    const p = profile.points[0]!;
    const what = `register ${p.register} (fc ${p.fc}, ${p.name}, the first point of profile ${d.profile})`;
    try {
      const words = await bus.read({ unitId: d.unitId, fc: p.fc, address: p.register, count: TYPE_WORDS[p.type]! });
      const raw = decodeValue(p.type, words, p.wordOrder);
      const value = raw === null ? 'not implemented' : `${Number(raw) * p.scale} ${p.unit}`;
      return { ok: true, detail: `unit ${d.unitId} answers ${what}: ${value}` };
    } catch (err) {
      return readFailure(d, err, what);
    }
  }
  return { ok: true, detail: 'simulated device: nothing to read' };
}
