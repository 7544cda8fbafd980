import { Type, type Static, type TSchema, type TString, type TLiteral, type TUnion } from '@sinclair/typebox';
import { INTERVAL_MINUTES } from '../interval.js';
import { ID_PATTERN } from '../ids.js';

/**
 * The schema of microgrid.yaml. Every object is closed (`additionalProperties:
 * false`) so a misspelt key is an error, not a silently ignored setting. The
 * custom `expected` annotation is the phrase the error message uses.
 */

const DECIMAL_PATTERN = '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$';

const Price = (description: string, def?: string): TString =>
  Type.String({
    pattern: DECIMAL_PATTERN,
    description,
    expected: 'a decimal string such as "0.1250" (quoted in YAML)',
    ...(def === undefined ? {} : { default: def }),
  });

const Id = (description: string): TString =>
  Type.String({ pattern: ID_PATTERN, description, expected: 'an id of 1–64 letters, digits, ".", "_", ":" or "-"' });

const Obj = <T extends Record<string, TSchema>>(props: T, opts: Record<string, unknown> = {}) =>
  Type.Object(props, { additionalProperties: false, ...opts });

type TLiterals<T extends readonly (string | number)[]> = { -readonly [K in keyof T]: TLiteral<T[K]> } & TSchema[];

const oneOf = <const T extends readonly (string | number)[]>(values: T, opts: Record<string, unknown> = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { expected: `one of ${values.join(', ')}`, ...opts },
  ) as unknown as TUnion<TLiterals<T>>;

/** A secret never sits in the file: it names an environment variable or a file holding it. */
export const SecretRef = Type.Union(
  [Obj({ env: Type.String({ minLength: 1 }) }), Obj({ file: Type.String({ minLength: 1 }) })],
  {
    expected: '{ env: VARIABLE_NAME } or { file: /path/to/secret } (secrets are never written in the config file)',
  },
);
export type SecretRef = Static<typeof SecretRef>;

export const MECHANISMS = ['uniform', 'pay-as-bid', 'pay-as-offer', 'mcafee'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

const Microgrid = Obj(
  {
    id: Type.String({
      pattern: ID_PATTERN,
      default: 'demo',
      expected: 'an id of 1–64 letters, digits, ".", "_", ":" or "-"',
      description: 'names this microgrid in MQTT topics (several microgrids can share one broker)',
    }),
    name: Type.String({ minLength: 1, default: 'Demo microgrid' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', default: 'EUR', expected: 'an ISO 4217 code such as "EUR"' }),
    currencyMinorUnits: Type.Integer({ minimum: 0, maximum: 4, default: 2 }),
  },
  { default: {} },
);

const ZoneFee = Obj({
  from: Id('seller zone'),
  to: Id('buyer zone'),
  fee: Price('grid fee per kWh, paid by the buyer'),
});

const Market = Obj(
  {
    intervalMinutes: oneOf(INTERVAL_MINUTES, { default: 15 }),
    priceTick: Price('smallest price step per kWh', '0.0001'),
    feedInTariff: Price('price floor: what the grid pays for export, per kWh', '0.0800'),
    retailTariff: Price('price cap: what the grid charges for import, per kWh', '0.3000'),
    mechanism: oneOf(MECHANISMS, { default: 'uniform' }),
    k: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'k of the k-double auction' }),
    gateClosureSeconds: Type.Integer({
      minimum: 0,
      default: 300,
      description: 'forward orders close this long before the interval starts',
    }),
    gracePeriodSeconds: Type.Integer({
      minimum: 0,
      default: 60,
      description: 'wait this long after an interval ends for late readings',
    }),
    zoneFees: Type.Array(ZoneFee, { default: [] }),
    zoneExportLimitsWh: Type.Record(Type.String({ pattern: ID_PATTERN }), Type.Integer({ minimum: 0 }), {
      default: {},
    }),
  },
  { default: {} },
);

const Clock = Obj(
  {
    speed: Type.Number({
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 1,
      description: 'market time runs this many times faster than wall time',
    }),
    startAt: Type.Optional(
      Type.String({
        pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2})?Z$',
        expected: 'an ISO 8601 UTC time such as "2026-06-21T08:00:00Z"',
        description: 'market time starts here instead of now (simulations and demos only)',
      }),
    ),
  },
  { default: {} },
);

const Server = Obj(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    corsOrigins: Type.Array(
      Type.String({
        pattern: '^https?://[^/]+$',
        expected: 'an origin such as "https://ops.example.org" (scheme and host, no path)',
      }),
      {
        default: [],
        description: 'origins allowed to call the API from a browser; empty = CORS closed',
      },
    ),
    bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 1048576, default: 65536 }),
    showCounterpartyNames: Type.Boolean({
      default: false,
      description: 'households see the id of who they traded with; off: "a neighbour"',
    }),
    rateLimit: Obj(
      {
        writesPerMinute: Type.Integer({
          minimum: 1,
          maximum: 100000,
          default: 60,
          description: 'write requests per token (or address) per minute, all write routes together',
        }),
        failedAuthPerMinute: Type.Integer({
          minimum: 1,
          maximum: 100000,
          default: 10,
          description:
            'refused bearer tokens per address per minute; then every request from it gets 429 until the minute is over',
        }),
        readingsPerMinute: Type.Integer({
          minimum: 1,
          maximum: 100000,
          default: 600,
          description: 'POST /api/readings per gateway and per address per minute',
        }),
      },
      { default: {} },
    ),
    stream: Obj(
      {
        heartbeatMs: Type.Integer({
          minimum: 100,
          maximum: 600000,
          default: 30000,
          description: 'ping every client this often; one that missed the last pong is dropped',
        }),
        maxBufferedBytes: Type.Integer({
          minimum: 1024,
          default: 1048576,
          description: 'a client with more than this waiting in its send buffer is dropped',
        }),
        replayFrames: Type.Integer({
          minimum: 0,
          maximum: 100000,
          default: 600,
          description: 'frames kept so a reconnecting client gets what it missed',
        }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

const TcpTransport = Obj({
  type: Type.Literal('tcp'),
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 502 }),
});
const RtuTransport = Obj({
  type: Type.Literal('rtu'),
  path: Type.String({ minLength: 1 }),
  baudRate: Type.Integer({ minimum: 1200, maximum: 921600, default: 9600 }),
  parity: oneOf(['none', 'even', 'odd'] as const, { default: 'none' }),
});

/** An MQTT meter's broker and topic (kinds tasmota, shelly-gen2). */
const MqttTransport = Obj({
  type: Type.Literal('mqtt'),
  url: Type.Optional(
    Type.String({
      pattern: '^(mqtts?|wss?)://',
      expected: 'an MQTT URL such as "mqtt://192.168.1.2:1883" (mqtt, mqtts, ws or wss)',
      description: 'the broker the device publishes to; default mqtt.url',
    }),
  ),
  topic: Type.String({
    pattern: '^[^#+/\\s]([^#+\\s]*[^#+/\\s])?$',
    expected:
      'the device\'s MQTT topic without "#", "+", spaces or a leading/trailing "/" (Tasmota: its %topic%, e.g. tasmota_8A2F1C; Shelly: its topic prefix, e.g. shellypro3em-08f9e0e67204)',
  }),
  username: Type.Optional(Type.String({ minLength: 1 })),
  password: Type.Optional(SecretRef),
});

export const MODBUS_KINDS = ['sunspec', 'profile', 'simulated'] as const;
export const MQTT_KINDS = ['tasmota', 'shelly-gen2'] as const;

// One object for every kind, so a wrong value is reported at its own key; which transport goes with which kind
// (tcp/rtu for Modbus kinds, mqtt for MQTT kinds) is checked in validate.ts, naming the key.
const Device = Obj({
  id: Id('device id'),
  kind: oneOf([...MODBUS_KINDS, ...MQTT_KINDS] as const),
  transport: Type.Union([TcpTransport, RtuTransport, MqttTransport], {
    expected:
      '{ type: tcp, host, port } or { type: rtu, path, baudRate } (Modbus kinds), or { type: mqtt, topic } (tasmota, shelly-gen2)',
  }),
  unitId: Type.Integer({
    minimum: 0,
    maximum: 247,
    default: 1,
    description: "Modbus kinds: the device's Modbus address",
  }),
  profile: Type.Optional(
    Type.String({ minLength: 1, description: 'register-map profile name or file, for kind: profile' }),
  ),
  ratedPowerW: Type.Optional(Type.Integer({ minimum: 1 })),
  tasmotaTotal: Type.Optional(
    oneOf(['import', 'net'] as const, {
      description:
        "kind tasmota: what ENERGY.Total counts. import (default): the meter's own import counter (SML, SDM, PZEM…); net: a chip that meters both directions (ADE7953 in a Shelly EM, ADE7880 in a Shelly 3EM, under Tasmota) counts Total as import − export, so import = Total + ExportActive",
    }),
  ),
});

const Bridge = Obj(
  {
    pollIntervalMs: Type.Integer({ minimum: 100, default: 1000 }),
    requestTimeoutMs: Type.Integer({ minimum: 10, default: 1000 }),
    requestGapMs: Type.Integer({ minimum: 0, default: 25 }),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
    devices: Type.Array(Device, { default: [] }),
    recordEveryMs: Type.Integer({
      minimum: 1000,
      default: 60_000,
      description:
        'one reading per meter per this period (and every suspect one) is signed and stored; every reading goes to the live view and InfluxDB',
    }),
    offlineAfterCycles: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description: 'a device that gives no reading this many cycles in a row is offline',
    }),
    push: Type.Optional(
      Obj(
        {
          url: Type.String({ pattern: '^https?://', expected: "the engine's base URL, e.g. http://engine.local:8080" }),
          spoolMaxBytes: Type.Integer({ minimum: 0, default: 64 * 1024 * 1024 }),
        },
        { description: 'mgx bridge: where to push signed readings' },
      ),
    ),
  },
  { default: {} },
);

const Meter = Obj({
  id: Id('meter id'),
  role: oneOf(['grid', 'pv'] as const, { default: 'grid' }),
  device: Type.Optional(Id('device id in bridge.devices')),
  ratedPowerW: Type.Optional(Type.Integer({ minimum: 1 })),
  gateway: Type.Optional(
    Type.String({
      pattern: '^0x[0-9a-fA-F]{40}$',
      expected: 'a 0x-prefixed 20-byte EVM address (the one `mgx bridge` prints)',
      description:
        "the remote gateway whose key signs this meter's readings (HTTP push or MQTT); wins over the in-process bridge",
    }),
  ),
});

const Participant = Obj({
  id: Id('participant id'),
  name: Type.String({ minLength: 1 }),
  zone: Type.String({ pattern: ID_PATTERN, default: 'main' }),
  account: Type.Optional(
    Type.String({ pattern: '^0x[0-9a-fA-F]{40}$', expected: 'a 0x-prefixed 20-byte EVM address' }),
  ),
  meters: Type.Array(Meter, { default: [] }),
  policy: Obj(
    {
      minSellPrice: Type.Optional(Price('least accepted for surplus')),
      maxBuyPrice: Type.Optional(Price('most paid for deficit')),
    },
    { default: {} },
  ),
});

const Chain = Obj(
  {
    rpcUrl: Type.Optional(Type.String({ pattern: '^(https?|wss?)://', expected: 'an http(s) or ws(s) URL' })),
    chainId: Type.Optional(Type.Integer({ minimum: 1 })),
    privateKey: Type.Optional(SecretRef),
    confirmations: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    hardfork: Type.Optional(Type.String({ minLength: 1, description: 'embedded anvil only, e.g. london' })),
    contract: Type.Optional(
      Type.String({
        pattern: '^0x[0-9a-fA-F]{40}$',
        expected: 'a 0x-prefixed 20-byte EVM address',
        description:
          'an EnergyCredits already deployed on chain.rpcUrl; absent: deploy once and remember it in the data folder',
      }),
    ),
    stuckAfterSeconds: Type.Integer({
      minimum: 1,
      maximum: 86400,
      default: 60,
      description: 'replace a settlement transaction not mined after this long, with raised fees',
    }),
    feeBumpPercent: Type.Integer({
      minimum: 10,
      maximum: 500,
      default: 25,
      description: 'fee increase of a replacement transaction',
    }),
    stalledAfterSeconds: Type.Integer({
      minimum: 1,
      maximum: 604800,
      default: 600,
      description: 'raise SETTLEMENT_STALLED when an interval waits on the chain longer than this (wall seconds)',
    }),
  },
  { default: {} },
);

const Influx = Obj({
  url: Type.String({ pattern: '^https?://', expected: 'an http(s) URL' }),
  org: Type.String({ minLength: 1 }),
  bucket: Type.String({ minLength: 1 }),
  token: Type.Optional(SecretRef),
  spoolMaxBytes: Type.Integer({ minimum: 0, default: 64 * 1024 * 1024 }),
  batchSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000 }),
  flushIntervalMs: Type.Integer({ minimum: 100, default: 1000 }),
});

const Token = Obj({
  token: SecretRef,
  role: oneOf(['operator', 'household', 'auditor'] as const),
  participant: Type.Optional(Id('participant id, for role household')),
});

const Auth = Obj({ tokens: Type.Array(Token, { default: [] }) }, { default: {} });

const MeterData = Obj(
  {
    holdWindowHours: Type.Number({
      exclusiveMinimum: 0,
      maximum: 8760,
      default: 48,
      description: 'held meter data with no operator decision after this many hours of market time is estimated',
    }),
  },
  { default: {} },
);

const Mqtt = Obj({
  url: Type.String({
    pattern: '^(mqtts?|wss?)://',
    expected: 'an MQTT URL such as "mqtt://127.0.0.1:1883" (mqtt, mqtts, ws or wss)',
  }),
  username: Type.Optional(Type.String({ minLength: 1 })),
  password: Type.Optional(SecretRef),
  clientId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'default: mgx-<microgrid id>-engine (a persistent session needs a stable id)',
    }),
  ),
  topicPrefix: Type.String({
    pattern: '^[^#+/][^#+]*[^#+/]$|^[^#+/]$',
    default: 'mgx',
    expected: 'a topic prefix without "#", "+" or a leading/trailing "/", such as "mgx"',
  }),
  discovery: Type.Boolean({
    default: true,
    description: 'publish Home Assistant discovery configs for the published households',
  }),
  discoveryPrefix: Type.String({
    pattern: '^[^#+/][^#+]*[^#+/]$|^[^#+/]$',
    default: 'homeassistant',
    expected: 'a topic prefix without "#", "+" or a leading/trailing "/"',
  }),
  households: Type.Union([Type.Literal('all'), Type.Array(Id('participant id'))], {
    default: [],
    expected: 'a list of participant ids, or "all"',
    description:
      'the households whose state is published: their ids, or "all" (the demo); a household not listed is never published',
  }),
});

const Demo = Obj(
  {
    enabled: Type.Boolean({ default: false, description: 'run simulated devices for the configured participants' }),
    households: Type.Integer({ minimum: 1, maximum: 10000, default: 12 }),
  },
  { default: {} },
);

export const ConfigSchema = Obj({
  microgrid: Microgrid,
  market: Market,
  clock: Clock,
  server: Server,
  bridge: Bridge,
  participants: Type.Array(Participant, { default: [] }),
  meterData: MeterData,
  chain: Chain,
  influx: Type.Optional(Influx),
  mqtt: Type.Optional(Mqtt),
  auth: Auth,
  demo: Demo,
  logLevel: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
});

export type Config = Static<typeof ConfigSchema>;
export type ParticipantConfig = Config['participants'][number];
export type DeviceConfig = Config['bridge']['devices'][number];
export type MqttTransportConfig = Extract<DeviceConfig['transport'], { type: 'mqtt' }>;
/** A device polled over Modbus (validate.ts guarantees the kind matches the transport). */
export type ModbusDeviceConfig = DeviceConfig & {
  kind: (typeof MODBUS_KINDS)[number];
  transport: Exclude<DeviceConfig['transport'], { type: 'mqtt' }>;
};
export type MqttDeviceConfig = DeviceConfig & { kind: (typeof MQTT_KINDS)[number]; transport: MqttTransportConfig };
export const isMqttDevice = (d: DeviceConfig): d is MqttDeviceConfig => d.transport.type === 'mqtt';
