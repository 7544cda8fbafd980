import { stringify } from 'yaml';
import type { BusSpec } from '../../meter-bridge/transport/types.js';

export interface SnippetDevice {
  kind: 'sunspec' | 'profile';
  profile?: string;
  spec: BusSpec;
  unitId: number;
  /** Which meters the device measures: grid (a meter model or profile), pv (an inverter model). */
  grid: boolean;
  pv: boolean;
}

/**
 * The microgrid.yaml lines for a device `mgx scan` found: its `bridge.devices`
 * entry and a participant whose meters name it, ready to paste (the ids are
 * placeholders to rename). Built as data and written by the YAML library, so
 * it parses; a test loads it through the config loader.
 */
export function configSnippet(d: SnippetDevice, id = 'device-1'): string {
  const transport =
    d.spec.type === 'tcp'
      ? { type: 'tcp', host: d.spec.host, port: d.spec.port }
      : { type: 'rtu', path: d.spec.path, baudRate: d.spec.baudRate, parity: d.spec.parity };
  const meters = [
    ...(d.grid ? [{ id: `${id}-grid`, role: 'grid', device: id }] : []),
    ...(d.pv ? [{ id: `${id}-pv`, role: 'pv', device: id }] : []),
  ];
  const doc = {
    bridge: {
      devices: [{ id, kind: d.kind, ...(d.profile ? { profile: d.profile } : {}), transport, unitId: d.unitId }],
    },
    participants: [{ id: 'h01', name: 'Household 01', meters }],
  };
  return `# microgrid.yaml: this device (rename the ids; merge into your bridge.devices and participants)\n${stringify(doc, { collectionStyle: 'block' })}`;
}
