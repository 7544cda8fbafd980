import { test, type TestContext } from 'node:test';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMgxAsync } from '../helpers/mgx-process.js';
import { tempDir } from '../helpers/tmp.js';
import { PEER, startProcess } from '../meter-bridge/helpers.js';
import { freePort } from '../../meter-bridge/simulators/free-port.js';
import { loadProfile } from '../../meter-bridge/profiles/load.js';
import { startProfileMeter, type ProfileMeter } from '../../meter-bridge/simulators/profile-meter.js';
import { parseConfigText } from '../../core/config/validate.js';
import { devicesFromConfig } from '../../meter-bridge/config.js';

// Real Modbus TCP peers: pymodbus serving a SunSpec map on unit 1 only (so
// another unit id reaches no device), and an SDM630 served from its profile.
async function sunspecPeer(): Promise<number> {
  const port = await freePort();
  await startProcess('/usr/bin/python3', [PEER, '--tcp', String(port), '--units', '1'], /READY/);
  // pymodbus prints READY just before it binds.
  for (let i = 0; i < 100; i++) {
    if (
      await new Promise<boolean>((ok) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.end(), ok(true)));
        s.once('error', () => ok(false));
      })
    )
      return port;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the pymodbus peer did not listen');
}

async function sdm630(t: TestContext): Promise<ProfileMeter> {
  const m = await startProfileMeter(loadProfile('sdm630'), {
    voltageV: 231.5,
    powerW: -1800,
    frequencyHz: 50,
    importWh: 1_234_000,
    exportWh: 5_678_000,
  });
  t.after(() => m.close());
  return m;
}

test('mgx doctor reads one register per device with its unit id: right unit and kind pass, a wrong unit id and a SunSpec device pointed at an SDM630 fail saying what to fix', async (t) => {
  const sunspecPort = await sunspecPeer();
  const sdm = await sdm630(t);
  const dir = tempDir();
  const cfg = join(dir, 'devices.yaml');
  const tcp = (port: number) => `{ type: tcp, host: 127.0.0.1, port: ${port} }`;
  writeFileSync(
    cfg,
    [
      'bridge:',
      '  requestTimeoutMs: 500',
      '  devices:',
      `    - { id: inv-ok, kind: sunspec, transport: ${tcp(sunspecPort)}, unitId: 1 }`,
      `    - { id: inv-unit7, kind: sunspec, transport: ${tcp(sunspecPort)}, unitId: 7 }`,
      `    - { id: sdm-ok, kind: profile, profile: sdm630, transport: ${tcp(sdm.port)}, unitId: 1 }`,
      `    - { id: inv-on-sdm, kind: sunspec, transport: ${tcp(sdm.port)}, unitId: 1 }`,
      '',
    ].join('\n'),
  );
  const r = await runMgxAsync(['doctor', '--config', cfg, '--data-dir', join(dir, 'data')]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`✔ device inv-ok +127\\.0\\.0\\.1:${sunspecPort} unit 1 answers: SunSpec marker "SunS" at 40000`),
  );
  assert.match(
    r.stdout,
    /✖ device inv-unit7 +\S+ (unit 7 did not answer|the gateway has no device at unit 7).*check unitId/,
  );
  assert.match(
    r.stdout,
    /✔ device sdm-ok +\S+ unit 1 answers register 0 \(fc 4, voltageV, the first point of profile sdm630\): 231\.5 V/,
  );
  assert.match(
    r.stdout,
    /✖ device inv-on-sdm +\S+ unit 1 answers but has no SunSpec marker "SunS" \(40000: 0x00000000, 50000: 0x00000000, 0: 0x00000000\): not a SunSpec device — a meter such as an SDM630 needs kind: profile and profile: sdm630/,
  );
  assert.match(r.stdout, /2 check\(s\) failed\./);
});

test('mgx scan --profile sdm630 reads the meter through its register map and prints config lines that load', async (t) => {
  const sdm = await sdm630(t);
  const dir = tempDir();
  const r = await runMgxAsync(['scan', '--host', '127.0.0.1', '--port', String(sdm.port), '--profile', 'sdm630']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^eastron-sdm630 \(profile sdm630\) at tcp:\/\/127\.0\.0\.1:\d+ unit 1/);
  assert.match(r.stdout, /scan: power -1800 W, import 1234000 Wh, export 5678000 Wh, 231\.5 V, 50 Hz/);
  const snippet = r.stdout.slice(r.stdout.indexOf('# microgrid.yaml'));
  const config = parseConfigText(snippet, join(dir, 'snippet.yaml'));
  assert.deepEqual(config.bridge.devices, [
    {
      id: 'device-1',
      kind: 'profile',
      profile: 'sdm630',
      transport: { type: 'tcp', host: '127.0.0.1', port: sdm.port },
      unitId: 1,
    },
  ]);
  assert.deepEqual(
    devicesFromConfig(config).map((d) => [d.id, d.kind, 'meterId' in d ? d.meterId : null]),
    [['device-1', 'profile', 'device-1-grid']],
  );
});

test('mgx scan of a SunSpec device ends with its config lines: a grid meter for its meter model, a pv meter for its inverter', async () => {
  const sunspecPort = await sunspecPeer();
  const dir = tempDir();
  const r = await runMgxAsync(['scan', '--host', '127.0.0.1', '--port', String(sunspecPort)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /PyPeer Unit1/);
  const config = parseConfigText(r.stdout.slice(r.stdout.indexOf('# microgrid.yaml')), join(dir, 'snippet.yaml'));
  assert.equal(config.bridge.devices[0]!.kind, 'sunspec');
  assert.deepEqual(
    config.participants[0]!.meters.map((m) => [m.id, m.role, m.device]),
    [
      ['device-1-grid', 'grid', 'device-1'],
      ['device-1-pv', 'pv', 'device-1'],
    ],
  );
});
