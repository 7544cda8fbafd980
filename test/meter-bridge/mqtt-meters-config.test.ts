import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../core/config/validate.js';
import { devicesFromConfig } from '../../meter-bridge/config.js';

const base = (devices: string, extra = ''): string => `
${extra}
participants:
  - id: h1
    name: Household 1
    meters: [{ id: h1-grid, role: grid, device: plug-1 }]
bridge:
  devices:
${devices}
`;

function problems(yaml: string): string {
  try {
    parseConfigText(yaml, 'microgrid.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

test('MQTT kinds: devicesFromConfig maps tasmota and shelly-gen2 to one meter each, broker from transport.url or mqtt.url', () => {
  const c = parseConfigText(
    base(
      `    - { id: plug-1, kind: tasmota, transport: { type: mqtt, topic: tasmota_8A2F1C }, ratedPowerW: 3680, tasmotaTotal: net }
    - { id: em-1, kind: shelly-gen2, transport: { type: mqtt, url: "mqtt://10.0.0.9:1883", topic: shellypro3em-08f9e0e67204, username: shelly, password: { env: SHELLY_PW } } }`,
      'mqtt: { url: "mqtt://127.0.0.1:1883", username: engine, password: { env: ENGINE_PW } }',
    ).replace(
      'meters: [{ id: h1-grid, role: grid, device: plug-1 }]',
      'meters: [{ id: h1-grid, role: grid, device: plug-1 }, { id: h1-pv, role: pv, device: em-1 }]',
    ),
    'microgrid.yaml',
  );
  assert.deepEqual(devicesFromConfig(c), [
    {
      id: 'plug-1',
      kind: 'tasmota',
      transport: {
        type: 'mqtt',
        url: 'mqtt://127.0.0.1:1883',
        topic: 'tasmota_8A2F1C',
        username: 'engine',
        password: { env: 'ENGINE_PW' },
      },
      unitId: 0,
      meterId: 'h1-grid',
      role: 'grid',
      tasmotaTotal: 'net',
      ratedPowerW: 3680,
    },
    {
      id: 'em-1',
      kind: 'shelly-gen2',
      transport: {
        type: 'mqtt',
        url: 'mqtt://10.0.0.9:1883',
        topic: 'shellypro3em-08f9e0e67204',
        username: 'shelly',
        password: { env: 'SHELLY_PW' },
      },
      unitId: 0,
      meterId: 'h1-pv',
      role: 'pv',
    },
  ]);
});

test('MQTT kinds: a wrong pairing or a Modbus setting on an MQTT device is an error naming the key and the value', () => {
  assert.match(
    problems(base('    - { id: plug-1, kind: tasmota, transport: { type: tcp, host: 10.0.0.2 } }')),
    /bridge\.devices\[0\]\.transport\.type \(line \d+\) = "tcp": expected mqtt for kind tasmota/,
  );
  assert.match(
    problems(base('    - { id: plug-1, kind: sunspec, transport: { type: mqtt, url: "mqtt://h:1883", topic: x } }')),
    /bridge\.devices\[0\]\.transport\.type \(line \d+\) = "mqtt": expected tcp or rtu for kind sunspec/,
  );
  assert.match(
    problems(
      base('    - { id: plug-1, kind: tasmota, unitId: 3, transport: { type: mqtt, url: "mqtt://h:1883", topic: x } }'),
    ),
    /bridge\.devices\[0\]\.unitId \(line \d+\) = 3: is a Modbus setting; kind tasmota has none/,
  );
  assert.match(
    problems(
      base(
        '    - { id: plug-1, kind: shelly-gen2, tasmotaTotal: net, transport: { type: mqtt, url: "mqtt://h:1883", topic: x } }',
      ),
    ),
    /bridge\.devices\[0\]\.tasmotaTotal \(line \d+\) = "net": is only for kind tasmota/,
  );
  assert.match(
    problems(base('    - { id: plug-1, kind: tasmota, transport: { type: mqtt, topic: x } }')),
    /bridge\.devices\[0\]\.transport\.url .*= nothing: is required when there is no mqtt section/,
  );
  assert.match(
    problems(
      base('    - { id: plug-1, kind: tasmota, transport: { type: mqtt, url: "mqtt://h:1883", topic: "tele/#" } }'),
    ),
    /bridge\.devices\[0\]\.transport\.topic \(line \d+\) = "tele\/#": expected the device's MQTT topic without "#", "\+"/,
  );
  assert.match(
    problems(base('    - { id: plug-1, kind: tasmota, transport: { type: mqtt, url: "http://h:1883", topic: x } }')),
    /bridge\.devices\[0\]\.transport\.url \(line \d+\) = "http:\/\/h:1883": expected an MQTT URL/,
  );
  assert.match(
    problems(
      base(
        '    - { id: plug-1, kind: tasmota, tasmotaTotal: gross, transport: { type: mqtt, url: "mqtt://h:1883", topic: x } }',
      ),
    ),
    /bridge\.devices\[0\]\.tasmotaTotal \(line \d+\) = "gross": expected one of import, net/,
  );
  assert.match(
    problems(base('    - { id: plug-1, kind: zigbee, transport: { type: mqtt, url: "mqtt://h:1883", topic: x } }')),
    /bridge\.devices\[0\]\.kind \(line \d+\) = "zigbee": expected one of sunspec, profile, simulated, tasmota, shelly-gen2/,
  );
  // A transport union names the key inside the branch its type picks (before, only "expected one of the shapes").
  assert.match(
    problems(base('    - { id: plug-1, kind: sunspec, transport: { type: tcp, host: 10.0.0.2, port: 99999 } }')),
    /bridge\.devices\[0\]\.transport\.port \(line \d+\) = 99999: expected a number ≤ 65535/,
  );
  assert.match(
    problems(base('    - { id: plug-1, kind: tasmota, transport: { type: mqtt, url: "mqtt://h:1883" } }')),
    /bridge\.devices\[0\]\.transport\.topic \(line \d+\) = nothing: is required/,
  );
  assert.match(
    problems(base('    - { id: plug-1, kind: tasmota, transport: { type: zigbee, topic: x } }')),
    /bridge\.devices\[0\]\.transport \(line \d+\) = .*expected \{ type: tcp, host, port \} or \{ type: rtu, path, baudRate \} \(Modbus kinds\), or \{ type: mqtt, topic \}/,
  );
});

test('MQTT kinds: one device measures one meter', () => {
  const c = parseConfigText(
    base('    - { id: plug-1, kind: tasmota, transport: { type: mqtt, url: "mqtt://h:1883", topic: x } }').replace(
      'meters: [{ id: h1-grid, role: grid, device: plug-1 }]',
      'meters: [{ id: h1-grid, role: grid, device: plug-1 }, { id: h1-pv, role: pv, device: plug-1 }]',
    ),
    'microgrid.yaml',
  );
  assert.throws(
    () => devicesFromConfig(c),
    /an MQTT meter measures one meter; h1-grid \(grid\) and h1-pv \(pv\) both name device plug-1/,
  );
});
