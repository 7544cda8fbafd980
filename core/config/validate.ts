import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { TSchema } from '@sinclair/typebox';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { ConfigSchema, MQTT_KINDS, type Config } from './schema.js';
import { MicrogridError, describeValue } from '../errors.js';
import { PriceScale } from '../units.js';

export interface ConfigProblem {
  /** Dotted key path, e.g. `market.intervalMinutes` or `participants[2].zone`. */
  path: string;
  value: unknown;
  /** What is wrong and what is allowed, in words. */
  problem: string;
  line?: number;
}

/** `/participants/2/zone` → `participants[2].zone` */
export function toKeyPath(pointer: string): string {
  if (pointer === '' || pointer === '/') return '(top level)';
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

/**
 * A union of objects told apart by a literal `type` (device transports):
 * when the value names one branch's type, that branch's own errors say more
 * (`transport.port = 99999: expected a number ≤ 65535`) than "expected one of
 * the shapes", so they replace the union's error.
 */
function discriminated(e: ValueError): ValueError[] {
  if (e.type !== ValueErrorType.Union) return [e];
  const branches = (e.schema.anyOf ?? []) as TSchema[];
  const type = (e.value as { type?: unknown } | null)?.type;
  const i = branches.findIndex((b) => (b.properties as Record<string, TSchema> | undefined)?.type?.const === type);
  if (type === undefined || i < 0 || !e.errors[i]) return [e];
  const inner = [...e.errors[i]!];
  return inner.length ? inner.flatMap(discriminated) : [e];
}

function describeProblem(e: ValueError): string {
  const schema = e.schema as TSchema & {
    expected?: string;
    minimum?: number;
    maximum?: number;
    exclusiveMinimum?: number;
  };
  if (e.type === ValueErrorType.ObjectAdditionalProperties) return 'is not a known setting';
  if (e.type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  if (schema.expected) return `expected ${schema.expected}`;
  switch (e.type) {
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `expected a number ≥ ${schema.minimum}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `expected a number ≤ ${schema.maximum}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `expected a number > ${schema.exclusiveMinimum}`;
    default:
      return e.message.replace(/^Expected/, 'expected');
  }
}

/** The allowed keys at an object path, for the "unknown key" message. */
function allowedKeysAt(pointer: string): string[] {
  let s: TSchema | undefined = ConfigSchema;
  for (const seg of pointer.split('/').slice(1, -1)) {
    if (!s) return [];
    if (s.type === 'array') s = s.items as TSchema;
    else if (s.properties) s = (s.properties as Record<string, TSchema>)[seg];
    else return [];
    if (s && s.anyOf) return [];
  }
  return s?.properties ? Object.keys(s.properties as object) : [];
}

function lineOf(doc: Document | undefined, lc: LineCounter, pointer: string): number | undefined {
  if (!doc) return undefined;
  const keys: (string | number)[] = pointer
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  // Walk up until a node exists (a missing required key points at its parent).
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * Validates an already-parsed config object: schema first, then the rules a
 * schema cannot say (tariff order, price grid, references between sections).
 * Returns the config with defaults filled in, or throws CONFIG_INVALID with
 * every problem found, each naming its key path, value and what was allowed.
 */
export function validateConfig(
  input: unknown,
  source = 'configuration',
  doc?: Document,
  lc: LineCounter = new LineCounter(),
): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(input ?? {}));
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const e of [...Value.Errors(ConfigSchema, withDefaults)].flatMap(discriminated)) {
    // A union reports each branch's failure too; one line per path is enough.
    const path = toKeyPath(e.path);
    if (seen.has(path)) continue;
    seen.add(path);
    let problem = describeProblem(e);
    if (e.type === ValueErrorType.ObjectAdditionalProperties) {
      const allowed = allowedKeysAt(e.path);
      if (allowed.length) problem += `; allowed here: ${allowed.join(', ')}`;
    }
    const line = lineOf(doc, lc, e.path);
    problems.push({ path, value: e.value, problem, ...(line === undefined ? {} : { line }) });
  }
  if (problems.length === 0)
    problems.push(
      ...semanticProblems(withDefaults as Config, input).map((p) => ({ ...p, ...lineField(doc, lc, p.path) })),
    );
  if (problems.length) throw configError(source, problems);
  return withDefaults as Config;
}

function lineField(doc: Document | undefined, lc: LineCounter, keyPath: string): { line?: number } {
  const pointer =
    '/' +
    keyPath
      .replace(/\[(\d+)\]/g, '.$1')
      .split('.')
      .join('/');
  const line = lineOf(doc, lc, pointer);
  return line === undefined ? {} : { line };
}

/** Parses YAML text and validates it. `source` names the file in messages. */
export function parseConfigText(text: string, source: string): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line ?? lc.linePos(err.pos[0]).line;
    throw new MicrogridError(
      'CONFIG_PARSE',
      `${source}${line ? ` line ${line}` : ''}: not valid YAML (${err.message.split('\n')[0]}). Check indentation and quoting around that line.`,
    );
  }
  return validateConfig(doc.toJS() ?? {}, source, doc, lc);
}

function configError(source: string, problems: ConfigProblem[]): MicrogridError {
  const shown = problems
    .slice(0, 8)
    .map((p) => `${p.path}${p.line ? ` (line ${p.line})` : ''} = ${describeValue(p.value)}: ${p.problem}.`);
  const more = problems.length > shown.length ? ` …and ${problems.length - shown.length} more.` : '';
  const first = problems[0]!;
  const err = new MicrogridError(
    'CONFIG_INVALID',
    `Invalid configuration in ${source}: ${shown.join(' ')}${more} Fix ${problems.length === 1 ? 'this key' : 'these keys'} and start again.`,
  );
  Object.assign(err, { field: first.path, value: first.value, expected: first.problem, problems });
  return err;
}

function semanticProblems(c: Config, input: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  let scale: PriceScale;
  try {
    scale = new PriceScale(c.market.priceTick);
  } catch {
    return [
      { path: 'market.priceTick', value: c.market.priceTick, problem: 'expected a positive decimal such as "0.0001"' },
    ];
  }
  const ticks = (path: string, v: string): number | undefined => {
    try {
      return scale.toTicks(v, path);
    } catch {
      out.push({ path, value: v, problem: `expected a multiple of market.priceTick (${c.market.priceTick})` });
      return undefined;
    }
  };
  const floor = ticks('market.feedInTariff', c.market.feedInTariff);
  const cap = ticks('market.retailTariff', c.market.retailTariff);
  if (floor !== undefined && cap !== undefined && floor > cap) {
    out.push({
      path: 'market.feedInTariff',
      value: c.market.feedInTariff,
      problem: `expected at most market.retailTariff (${c.market.retailTariff})`,
    });
  }
  c.market.zoneFees.forEach((f, i) => {
    const t = ticks(`market.zoneFees[${i}].fee`, f.fee);
    if (t !== undefined && t < 0)
      out.push({ path: `market.zoneFees[${i}].fee`, value: f.fee, problem: 'expected a fee ≥ 0' });
  });

  const deviceIds = new Set<string>();
  const rawDevices = ((input as { bridge?: { devices?: unknown } } | null)?.bridge?.devices ?? []) as Record<
    string,
    unknown
  >[];
  c.bridge.devices.forEach((d, i) => {
    if (deviceIds.has(d.id))
      out.push({ path: `bridge.devices[${i}].id`, value: d.id, problem: 'expected a unique device id' });
    deviceIds.add(d.id);
    if (d.kind === 'profile' && !d.profile)
      out.push({ path: `bridge.devices[${i}].profile`, value: undefined, problem: 'is required for kind: profile' });
    out.push(...deviceKindProblems(d, i, rawDevices[i]));
  });

  const participantIds = new Set<string>();
  const meterIds = new Set<string>();
  c.participants.forEach((p, i) => {
    const at = `participants[${i}]`;
    if (participantIds.has(p.id))
      out.push({ path: `${at}.id`, value: p.id, problem: 'expected a unique participant id' });
    participantIds.add(p.id);
    p.meters.forEach((m, j) => {
      if (meterIds.has(m.id))
        out.push({ path: `${at}.meters[${j}].id`, value: m.id, problem: 'expected a meter id used only once' });
      meterIds.add(m.id);
      if (m.device !== undefined && !deviceIds.has(m.device)) {
        out.push({
          path: `${at}.meters[${j}].device`,
          value: m.device,
          problem: 'expected the id of a device in bridge.devices',
        });
      }
    });
    for (const key of ['minSellPrice', 'maxBuyPrice'] as const) {
      const v = p.policy[key];
      if (v === undefined) continue;
      const t = ticks(`${at}.policy.${key}`, v);
      if (t !== undefined && floor !== undefined && cap !== undefined && (t < floor || t > cap)) {
        out.push({
          path: `${at}.policy.${key}`,
          value: v,
          problem: `expected a price between market.feedInTariff (${c.market.feedInTariff}) and market.retailTariff (${c.market.retailTariff})`,
        });
      }
    }
  });
  if (Array.isArray(c.mqtt?.households)) {
    c.mqtt.households.forEach((h, i) => {
      if (!participantIds.has(h))
        out.push({
          path: `mqtt.households[${i}]`,
          value: h,
          problem: 'expected the id of a participant in participants',
        });
    });
  }
  c.bridge.devices.forEach((d, i) => {
    if (d.transport.type === 'mqtt' && d.transport.url === undefined && !c.mqtt) {
      out.push({
        path: `bridge.devices[${i}].transport.url`,
        value: undefined,
        problem: 'is required when there is no mqtt section (the broker this device publishes to)',
      });
    }
  });
  c.auth.tokens.forEach((t, i) => {
    if (t.role === 'household' && t.participant === undefined)
      out.push({ path: `auth.tokens[${i}].participant`, value: undefined, problem: 'is required for role household' });
    if (t.participant !== undefined && !participantIds.has(t.participant)) {
      out.push({
        path: `auth.tokens[${i}].participant`,
        value: t.participant,
        problem: 'expected the id of a participant in participants',
      });
    }
  });
  return out;
}

/**
 * Modbus kinds take tcp/rtu, MQTT kinds take mqtt; settings of one family are refused on the other (`raw`: before
 * defaults).
 */
function deviceKindProblems(
  d: Config['bridge']['devices'][number],
  i: number,
  raw: Record<string, unknown> | undefined,
): ConfigProblem[] {
  const at = `bridge.devices[${i}]`;
  const mqttKind = (MQTT_KINDS as readonly string[]).includes(d.kind);
  const out: ConfigProblem[] = [];
  if (mqttKind && d.transport.type !== 'mqtt')
    out.push({
      path: `${at}.transport.type`,
      value: d.transport.type,
      problem: `expected mqtt for kind ${d.kind} ({ type: mqtt, topic, url? })`,
    });
  if (!mqttKind && d.transport.type === 'mqtt')
    out.push({
      path: `${at}.transport.type`,
      value: 'mqtt',
      problem: `expected tcp or rtu for kind ${d.kind} (MQTT devices are kind tasmota or shelly-gen2)`,
    });
  if (mqttKind) {
    for (const key of ['unitId', 'profile'] as const) {
      if (raw && raw[key] !== undefined)
        out.push({
          path: `${at}.${key}`,
          value: raw[key],
          problem: `is a Modbus setting; kind ${d.kind} has none (remove it)`,
        });
    }
  }
  if (d.tasmotaTotal !== undefined && d.kind !== 'tasmota')
    out.push({ path: `${at}.tasmotaTotal`, value: d.tasmotaTotal, problem: 'is only for kind tasmota' });
  return out;
}
