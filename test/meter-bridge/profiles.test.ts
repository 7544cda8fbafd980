import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMicrogridError } from '../../core/errors.js';
import { BUILTIN_PROFILES, loadProfile } from '../../meter-bridge/profiles/load.js';
import { startBridge } from '../../meter-bridge/bridge.js';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/events.js';
import { tempDir } from '../helpers/tmp.js';

test('the shipped profiles load: SDM630, SDM120, EM24', () => {
  for (const name of BUILTIN_PROFILES) {
    const p = loadProfile(name);
    assert.ok(p.points.length >= 3, name);
  }
  const em24 = loadProfile('em24');
  assert.ok(em24.points.every((p) => p.wordOrder === 'low-first'));
  assert.deepEqual(em24.points.find((p) => p.name === 'powerW')!.scale, 0.1);
});

test('a profile error names the file, the entry, the value and what is allowed', () => {
  const dir = tempDir('mgx-profile-');
  const cases: [string, unknown, RegExp][] = [
    [
      'type.json',
      {
        name: 'x',
        points: [
          { name: 'powerW', register: 0, fc: 4, type: 'float32' },
          { name: 'importWh', register: 2, fc: 4, type: 'float48' },
        ],
      },
      /type\.json: points\[1\]\.type: invalid profile entry; got "float48"; expected one of int16, uint16, int32, uint32, float32, int64/,
    ],
    [
      'overlap.json',
      {
        name: 'x',
        points: [
          { name: 'powerW', register: 10, fc: 4, type: 'float32' },
          { name: 'importWh', register: 11, fc: 4, type: 'int32' },
        ],
      },
      /overlap\.json: points\[1\]\.register: .*got 11; expected registers not overlapping points\[0\] \(powerW at 10\.\.11, fc 4\)/,
    ],
    [
      'fc.json',
      { name: 'x', points: [{ name: 'powerW', register: 0, fc: 6, type: 'int16' }] },
      /fc\.json: points\[0\]\.fc: .*got 6; expected function code 3 \(holding\) or 4 \(input\)/,
    ],
    [
      'order.json',
      { name: 'x', points: [{ name: 'powerW', register: 0, fc: 3, type: 'int32', wordOrder: 'little' }] },
      /points\[0\]\.wordOrder: .*got "little"/,
    ],
    [
      'unit.json',
      { name: 'x', points: [{ name: 'importWh', register: 0, fc: 3, type: 'int32', unit: 'kWh' }] },
      /points\[0\]\.unit: .*got "kWh"; expected Wh/,
    ],
  ];
  for (const [file, data, re] of cases) {
    const path = join(dir, file);
    writeFileSync(path, JSON.stringify(data));
    assert.throws(
      () => loadProfile(path),
      (e) => isMicrogridError(e, 'PROFILE_INVALID') && re.test(e.message),
      file,
    );
  }
  // YAML works too, and the error is raised when the bridge starts, before any polling.
  const yml = join(dir, 'bad.yaml');
  writeFileSync(yml, 'name: y\npoints:\n  - { name: powerW, register: 0, fc: 4, type: floaty }\n');
  assert.throws(
    () =>
      startBridge({
        devices: [
          { id: 'd', kind: 'profile', profile: yml, transport: { type: 'tcp', host: '127.0.0.1', port: 1 }, unitId: 1 },
        ],
        clock: new ManualClock(0),
        bus: new EventBus(),
        autoStart: false,
      }),
    (e) => isMicrogridError(e, 'PROFILE_INVALID') && /bad\.yaml: points\[0\]\.type/.test(e.message),
  );
  assert.throws(
    () => loadProfile('sdm999'),
    (e) => isMicrogridError(e, 'PROFILE_INVALID') && /expected one of sdm630, sdm120, em24/.test(e.message),
  );
});
