import type { Config } from '../../core/config/schema.js';
import { availabilityTopic, OFFLINE, ONLINE, type TopicBase } from '../../core/mqtt-topics.js';
import { gridStateTopic, haId, haNode, householdStateTopic, householdTodayTopic } from './state-topics.js';

/** A household as state out publishes it: its id, display name and meters. */
export interface PublishedHousehold {
  id: string;
  name: string;
  meters: { id: string; role: 'grid' | 'pv' }[];
}

/** One retained discovery message: `<discoveryPrefix>/sensor/<node>/<object>/config` and its JSON. */
export interface DiscoveryConfig {
  topic: string;
  payload: Record<string, unknown>;
}

type Sensor = {
  key: string;
  name: string;
  stateTopic: string;
  template: string;
  unit: string;
  deviceClass?: 'power' | 'energy' | 'monetary';
  stateClass: 'measurement' | 'total_increasing' | 'total';
  /** For `total` sensors that restart each day: when the current cycle began. */
  lastResetTemplate?: string;
  precision?: number;
  icon?: string;
};

const MANUFACTURER = 'microgrid-exchange';
const field = (path: string): string => `{{ value_json.${path} }}`;
/** A meter's value in a household state document (meter ids never hold a quote: ID_PATTERN). */
const meterField = (meterId: string, f: string): string => field(`meters['${meterId}'].${f}`);

/** The discovery filter of this microgrid's configs, for reading back what is retained. */
export const discoveryFilter = (config: Config, topics: TopicBase): string =>
  `${config.mqtt?.discoveryPrefix ?? 'homeassistant'}/sensor/${haNode(topics)}/+/config`;

/**
 * Home Assistant MQTT discovery configs (retained): one device for the
 * microgrid (its balance and prices) and one per published household, linked
 * to the microgrid by via_device. Energy sensors are Wh with state_class
 * total_increasing (the Energy dashboard takes them as they are: a meter's
 * lifetime counters, and the day's traded energy, which restarts at midnight
 * UTC, which total_increasing reads as a new cycle); money is `monetary` in the
 * microgrid's currency with state_class total and the day as last_reset, the
 * only state class HA allows for monetary. Availability is the engine's
 * online/offline topic, whose last will marks every entity unavailable.
 *
 * Both `object_id` (HA before 2025.10) and `default_entity_id` (its
 * replacement) name the entity id, as zigbee2mqtt does, so old and new HA
 * versions read the same config without a deprecation warning.
 */
export function discoveryConfigs(
  config: Config,
  topics: TopicBase,
  households: readonly PublishedHousehold[],
  version: string,
): DiscoveryConfig[] {
  const prefix = config.mqtt?.discoveryPrefix ?? 'homeassistant';
  const node = haNode(topics);
  const currency = config.microgrid.currency;
  const minor = config.microgrid.currencyMinorUnits;
  const grid = gridStateTopic(topics);
  const common = {
    availability_topic: availabilityTopic(topics),
    payload_available: ONLINE,
    payload_not_available: OFFLINE,
    origin: { name: MANUFACTURER, sw_version: version },
  };
  const price = (key: string, name: string): Sensor => ({
    key,
    name,
    stateTopic: grid,
    template: field('balance.lastClearingPrice'),
    unit: `${currency}/kWh`,
    stateClass: 'measurement',
    precision: 4,
    icon: 'mdi:cash',
  });

  const out: DiscoveryConfig[] = [];
  const add = (owner: string, device: Record<string, unknown>, s: Sensor) => {
    const object = `${haId(owner)}__${s.key}`;
    const entity = `${topics.microgrid}_${owner}_${s.key}`.toLowerCase().replace(/[^a-z0-9]+/g, '_');
    out.push({
      topic: `${prefix}/sensor/${node}/${object}/config`,
      payload: {
        name: s.name,
        unique_id: `${node}__${object}`,
        object_id: entity,
        default_entity_id: `sensor.${entity}`,
        state_topic: s.stateTopic,
        value_template: s.template,
        unit_of_measurement: s.unit,
        ...(s.deviceClass ? { device_class: s.deviceClass } : {}),
        state_class: s.stateClass,
        ...(s.lastResetTemplate ? { last_reset_value_template: s.lastResetTemplate } : {}),
        ...(s.precision === undefined ? {} : { suggested_display_precision: s.precision }),
        ...(s.icon ? { icon: s.icon } : {}),
        ...common,
        device,
      },
    });
  };

  const microgrid = {
    identifiers: [node],
    name: config.microgrid.name,
    manufacturer: MANUFACTURER,
    model: 'Microgrid',
    sw_version: version,
  };
  const power = (key: string, name: string, path: string): Sensor => ({
    key,
    name,
    stateTopic: grid,
    template: field(`balance.${path}`),
    unit: 'W',
    deviceClass: 'power',
    stateClass: 'measurement',
  });
  for (const s of [
    power('generation', 'Generation', 'generationW'),
    power('consumption', 'Consumption', 'consumptionW'),
    power('net_grid', 'Net grid exchange', 'netGridW'),
    power('local', 'Traded locally now', 'localW'),
    {
      key: 'self_sufficiency',
      name: 'Self-sufficiency',
      stateTopic: grid,
      template: '{% set s = value_json.balance.selfSufficiency %}{{ none if s is none else (s * 100) | round(1) }}',
      unit: '%',
      stateClass: 'measurement',
      icon: 'mdi:home-lightning-bolt',
    } satisfies Sensor,
    {
      key: 'traded_today',
      name: 'Traded locally today',
      stateTopic: grid,
      template: field('balance.tradedWhToday'),
      unit: 'Wh',
      deviceClass: 'energy',
      stateClass: 'total_increasing',
    } satisfies Sensor,
    price('clearing_price', 'Last clearing price'),
  ]) {
    add(topics.microgrid, microgrid, s);
  }

  for (const h of households) {
    const device = {
      identifiers: [`${node}__${haId(h.id)}`],
      name: h.name,
      manufacturer: MANUFACTURER,
      model: 'Household',
      sw_version: version,
      via_device: node,
    };
    const state = householdStateTopic(topics, h.id);
    const today = householdTodayTopic(topics, h.id);
    for (const m of h.meters) {
      // Two meters of one role (two connections, two inverters): their names say which is which.
      const suffix = h.meters.filter((x) => x.role === m.role).length > 1 ? ` (${m.id})` : '';
      const sensors: Sensor[] =
        m.role === 'grid'
          ? [
              {
                key: 'power',
                name: `Grid power${suffix}`,
                stateTopic: state,
                template: meterField(m.id, 'powerW'),
                unit: 'W',
                deviceClass: 'power',
                stateClass: 'measurement',
              },
              {
                key: 'import',
                name: `Grid import${suffix}`,
                stateTopic: state,
                template: meterField(m.id, 'importWh'),
                unit: 'Wh',
                deviceClass: 'energy',
                stateClass: 'total_increasing',
              },
              {
                key: 'export',
                name: `Grid export${suffix}`,
                stateTopic: state,
                template: meterField(m.id, 'exportWh'),
                unit: 'Wh',
                deviceClass: 'energy',
                stateClass: 'total_increasing',
              },
            ]
          : [
              // A pv meter's power is negative while it generates (the bridge's sign: + flows in);
              // HA's solar power is production, positive, and an inverter's standby draw is no production.
              {
                key: 'solar_power',
                name: `Solar power${suffix}`,
                stateTopic: state,
                template: `{% set p = value_json.meters['${m.id}'].powerW %}{{ none if p is none else [0, -p] | max }}`,
                unit: 'W',
                deviceClass: 'power',
                stateClass: 'measurement',
              },
              {
                key: 'solar_energy',
                name: `Solar energy${suffix}`,
                stateTopic: state,
                template: meterField(m.id, 'exportWh'),
                unit: 'Wh',
                deviceClass: 'energy',
                stateClass: 'total_increasing',
              },
            ];
      for (const s of sensors) add(m.id, device, s);
    }
    const money = (key: string, name: string, f: string): Sensor => ({
      key,
      name,
      stateTopic: today,
      template: field(f),
      unit: currency,
      deviceClass: 'monetary',
      stateClass: 'total',
      lastResetTemplate: field('day'),
      precision: minor,
    });
    for (const s of [
      {
        key: 'sold_today',
        name: 'Sold locally today',
        stateTopic: today,
        template: field('soldWh'),
        unit: 'Wh',
        deviceClass: 'energy',
        stateClass: 'total_increasing',
      } satisfies Sensor,
      {
        key: 'bought_today',
        name: 'Bought locally today',
        stateTopic: today,
        template: field('boughtWh'),
        unit: 'Wh',
        deviceClass: 'energy',
        stateClass: 'total_increasing',
      } satisfies Sensor,
      money('earned_today', 'Earned today', 'earned'),
      money('paid_today', 'Paid today', 'paid'),
      // 1 credit = 1 Wh of metered surplus: counted in Wh, but not energy this household used or made, so no device
      // class.
      {
        key: 'credits_today',
        name: 'Energy credits today',
        stateTopic: today,
        template: field('creditsWh'),
        unit: 'Wh',
        stateClass: 'total_increasing',
        icon: 'mdi:certificate',
      } satisfies Sensor,
      price('price', 'Local price'),
    ]) {
      add(h.id, device, s);
    }
  }
  return out;
}
