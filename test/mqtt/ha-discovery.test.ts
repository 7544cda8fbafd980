import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { startMicrogrid } from '../../app/start.js';
import { haId } from '../../app/mqtt/state-topics.js';
import type { ParticipantToday } from '../../dashboard/participant-today.js';
import { fcParams } from '../helpers/fc.js';
import { startBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { api, demoWithMqtt, retainedNow, silent, testEnv, until, watch } from './watch.js';

/** Debian's python3 with python3-jinja2 (scripts/system-packages.mjs PYTHON). */
const PYTHON = '/usr/bin/python3';
const RENDER = fileURLToPath(new URL('./peers/ha_templates.py', import.meta.url));

type HaConfig = Record<string, unknown> & {
  name: string;
  unique_id: string;
  state_topic: string;
  value_template: string;
  unit_of_measurement: string;
  state_class: string;
  device_class?: string;
  last_reset_value_template?: string;
  device: {
    identifiers: string[];
    name: string;
    manufacturer: string;
    model: string;
    sw_version: string;
    via_device?: string;
  };
};

/** Renders templates with Jinja2 in a sandbox, as Home Assistant does (value, value_json). */
function render(items: { template: string; payload: string }[]): (string | { error: string })[] {
  const r = spawnSync(PYTHON, [RENDER], { input: JSON.stringify(items), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ha_templates.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as (string | { error: string })[];
}

/** What HA would show for a sensor of `key`, from its state document (null renders as "None": HA's unknown). */
function expected(key: string, owner: string, doc: Record<string, unknown>): string {
  const b = doc.balance as Record<string, number | string | null> | undefined;
  const meter = (doc.meters as Record<string, Record<string, number | null>> | undefined)?.[owner];
  const s = (v: unknown) => (v === null || v === undefined ? 'None' : String(v));
  switch (key) {
    case 'power':
      return s(meter!.powerW);
    case 'import':
      return s(meter!.importWh);
    case 'export':
    case 'solar_energy':
      return s(meter!.exportWh);
    case 'solar_power':
      return meter!.powerW === null ? 'None' : String(Math.max(0, -meter!.powerW!));
    case 'sold_today':
      return s(doc.soldWh);
    case 'bought_today':
      return s(doc.boughtWh);
    case 'earned_today':
      return s(doc.earned);
    case 'paid_today':
      return s(doc.paid);
    case 'credits_today':
      return s(doc.creditsWh);
    case 'price':
    case 'clearing_price':
      return s(b!.lastClearingPrice);
    case 'generation':
      return s(b!.generationW);
    case 'consumption':
      return s(b!.consumptionW);
    case 'net_grid':
      return s(b!.netGridW);
    case 'local':
      return s(b!.localW);
    case 'traded_today':
      return s(b!.tradedWhToday);
    case 'self_sufficiency':
      return b!.selfSufficiency === null ? 'None' : String(Math.round(Number(b!.selfSufficiency) * 1000) / 10);
    default:
      throw new Error(`no expectation for sensor key ${key}`);
  }
}

test('haId: letters, digits and "-" stay; two different ids never share a discovery topic level', () => {
  assert.equal(haId('h01-grid'), 'h01-grid');
  assert.equal(haId('a.b:c_d'), 'a_x2eb_x3ac_x5fd');
  const id = fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/);
  fc.assert(
    fc.property(id, id, (a, b) => {
      assert.match(haId(a), /^[A-Za-z0-9_-]+$/);
      assert.ok(!haId(a).includes('__'), 'never "__", the joint of node and object ids');
      if (a !== b) assert.notEqual(haId(a), haId(b));
    }),
    fcParams('haId injective'),
  );
});

test(
  'Home Assistant discovery: a device per listed household with classed sensors whose templates render the state topics; a household taken off the list is deleted',
  { timeout: 240_000 },
  async () => {
    const broker = await startBroker();
    const all = await watch(broker.url, ['#']);
    const dataDir = join(tempDir(), 'data');
    let mg = await startMicrogrid({
      config: demoWithMqtt(broker.url, 3, ['h01', 'h02']),
      configSource: 'test',
      dataDir,
      log: silent,
      port: 0,
      speed: 600,
      env: testEnv,
    });
    try {
      await until(
        async () =>
          (await api<ParticipantToday>(mg.url, '/api/participants/h01/today')).intervals >= 1 ? true : undefined,
        120_000,
        'a settled interval',
      );
      await all.waitFor(
        (m) =>
          m.topic === 'mgx/demo/households/h01/today' && (JSON.parse(m.payload) as ParticipantToday).intervals >= 1,
        10_000,
        'the day with an interval',
      );

      // What a Home Assistant starting now receives: the retained configs and states.
      const retained = await retainedNow(broker.url, ['homeassistant/#', 'mgx/#']);
      const configs = [...retained]
        .filter(([t]) => t.startsWith('homeassistant/'))
        .map(([topic, p]) => ({ topic, c: JSON.parse(p) as HaConfig }));

      // 7 microgrid sensors; h01 and h02 have a grid meter (3) and a pv meter (2), and 6 of the day; h03 is not listed.
      assert.equal(configs.length, 7 + 2 * (3 + 2 + 6), configs.map((x) => x.topic).join('\n'));
      const node = 'mgx__demo';
      const microgridDevice = configs.find((x) => x.c.device.model === 'Microgrid')!.c.device;
      assert.deepEqual(microgridDevice.identifiers, [node]);
      assert.equal(new Set(configs.map((x) => x.c.unique_id)).size, configs.length, 'unique ids');
      for (const { topic, c } of configs) {
        assert.match(topic, /^homeassistant\/sensor\/[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+\/config$/);
        assert.equal(
          topic,
          `homeassistant/sensor/${node}/${c.unique_id.slice(node.length + 2)}/config`,
          'the topic names node and object',
        );
        for (const k of [
          'name',
          'unique_id',
          'object_id',
          'default_entity_id',
          'state_topic',
          'value_template',
          'unit_of_measurement',
          'state_class',
          'availability_topic',
          'device',
          'origin',
        ])
          assert.ok(k in c, `${topic}: ${k}`);
        assert.equal(c.default_entity_id, `sensor.${String(c.object_id)}`);
        assert.equal(c.availability_topic, 'mgx/demo/status');
        assert.equal(c.payload_available, 'online');
        assert.equal(c.payload_not_available, 'offline');
        assert.equal(c.device.manufacturer, 'microgrid-exchange');
        assert.ok(c.device.sw_version && c.device.name && c.device.identifiers.length === 1);
        if (c.device.model === 'Household') assert.equal(c.device.via_device, node);
        switch (c.device_class) {
          case 'energy':
            assert.equal(c.unit_of_measurement, 'Wh', topic);
            assert.equal(
              c.state_class,
              'total_increasing',
              `${topic}: energy is total_increasing (the Energy dashboard)`,
            );
            break;
          case 'power':
            assert.equal(c.unit_of_measurement, 'W', topic);
            assert.equal(c.state_class, 'measurement', topic);
            break;
          case 'monetary':
            assert.equal(c.unit_of_measurement, 'EUR', topic);
            assert.equal(c.state_class, 'total', `${topic}: HA allows only total for monetary`);
            assert.ok(c.last_reset_value_template, `${topic}: the day's total restarts at midnight`);
            break;
          case undefined:
            assert.ok(['measurement', 'total_increasing'].includes(c.state_class), topic);
            break;
          default:
            assert.fail(`${topic}: unexpected device_class ${c.device_class}`);
        }
        assert.ok(retained.has(c.state_topic), `${topic}: its state topic ${c.state_topic} is retained`);
      }
      const households = new Map(
        configs
          .filter((x) => x.c.device.model === 'Household')
          .map((x) => [x.c.device.identifiers[0], x.c.device.name]),
      );
      assert.deepEqual([...households.values()].sort(), ['Household 01', 'Household 02']);
      const energy = configs
        .filter((x) => x.c.device.name === 'Household 01' && x.c.device_class === 'energy')
        .map((x) => x.c.name)
        .sort();
      assert.deepEqual(energy, [
        'Bought locally today',
        'Grid export',
        'Grid import',
        'Solar energy',
        'Sold locally today',
      ]);

      // Every template, rendered by Jinja2 as HA renders it, gives the number the state document carries.
      const items = configs.flatMap(({ c }) => [
        { template: c.value_template, payload: retained.get(c.state_topic)! },
        ...(c.last_reset_value_template
          ? [{ template: c.last_reset_value_template, payload: retained.get(c.state_topic)! }]
          : []),
      ]);
      const out = render(items);
      let i = 0;
      for (const { topic, c } of configs) {
        const [owner, key] = c.unique_id.slice(node.length + 2).split('__') as [string, string];
        const doc = JSON.parse(retained.get(c.state_topic)!) as Record<string, unknown>;
        const got = out[i++];
        assert.equal(typeof got, 'string', `${topic}: ${JSON.stringify(got)}`);
        // Self-sufficiency is rounded to 0.1 % by Python's round (half to even) in HA: within half a step.
        if (key === 'self_sufficiency' && got !== 'None')
          assert.ok(
            Math.abs(Number(got) - Number(expected(key, owner, doc))) <= 0.05 + 1e-9,
            `${topic}: ${String(got)}`,
          );
        else assert.equal(got, expected(key, owner, doc), `${topic}: ${c.value_template}`);
        if (c.state_class && got !== 'None')
          assert.ok(Number.isFinite(Number(got)), `${topic}: a number (${String(got)})`);
        if (c.last_reset_value_template) {
          const reset = out[i++] as string;
          assert.equal(reset, doc.day);
          assert.ok(Number.isFinite(Date.parse(reset)), `${topic}: last_reset is a time`);
        }
      }

      // h02 taken off the list: at the next start its configs and its retained state are deleted.
      await mg.stop();
      const before = all.seen.length;
      mg = await startMicrogrid({
        config: demoWithMqtt(broker.url, 3, ['h01']),
        configSource: 'test',
        dataDir,
        log: silent,
        port: 0,
        speed: 600,
        env: testEnv,
      });
      const h02Topics = [...retained.keys()].filter((t) => t.includes('h02'));
      assert.ok(h02Topics.length >= 2 + 11, `h02 had state and configs (${h02Topics.length})`);
      await until(
        () =>
          h02Topics.every((t) => all.seen.slice(before).some((m) => m.topic === t && m.payload === ''))
            ? true
            : undefined,
        15_000,
        'every h02 topic cleared',
      );
      const left = [...(await retainedNow(broker.url, ['homeassistant/#', 'mgx/#'])).keys()];
      assert.ok(left.includes('mgx/demo/households/h01/state'));
      assert.deepEqual(
        left.filter((t) => t.includes('h02')),
        [],
        'nothing of h02 is retained',
      );
      assert.equal(left.filter((t) => t.startsWith('homeassistant/')).length, 7 + 11, 'the microgrid and h01 stay');

      // discovery: false: every config of this microgrid is deleted; the state topics stay.
      await mg.stop();
      mg = await startMicrogrid({
        config: demoWithMqtt(broker.url, 3, ['h01'], { discovery: false }),
        configSource: 'test',
        dataDir,
        log: silent,
        port: 0,
        speed: 600,
        env: testEnv,
      });
      const kept = [...(await retainedNow(broker.url, ['homeassistant/#', 'mgx/#'])).keys()];
      assert.deepEqual(
        kept.filter((t) => t.startsWith('homeassistant/')),
        [],
        'no discovery config is retained',
      );
      assert.ok(kept.includes('mgx/demo/households/h01/today'));
    } finally {
      await mg.stop();
      await all.end();
      await broker.stop();
    }
  },
);
