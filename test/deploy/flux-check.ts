import { INFLUX_SCHEMA, type InfluxMeasurement } from '../../core/influx-schema.js';

/**
 * What a Flux query of the dashboard names, read from its text: the
 * measurements and fields it filters on, tag comparisons, every `r.column` it
 * reads and every column list (group, sort, pivot keys). The dashboard's
 * queries are written in this one style (`r.name == "value"`); anything else
 * naming a measurement or a field (a regex, a `contains`) is reported as not
 * understood rather than passed unchecked.
 */
export interface FluxNames {
  measurements: string[];
  fields: string[];
  tagFilters: { tag: string; value: string }[];
  columnRefs: string[];
  columnLists: string[];
  pivotsFields: boolean;
  problems: string[];
}

const BUILTIN = new Set(['_measurement', '_field', '_value', '_time', '_start', '_stop']);

export function fluxNames(query: string): FluxNames {
  const problems: string[] = [];
  // Column references: r.name or r["name"], normalised to the name.
  const norm = query.replace(/\br\["([A-Za-z_][A-Za-z0-9_]*)"\]/g, 'r.$1');
  const measurements: string[] = [];
  const fields: string[] = [];
  const tagFilters: { tag: string; value: string }[] = [];
  for (const m of norm.matchAll(/\br\.([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=)\s*"([^"]*)"/g)) {
    const [, col, , value] = m as unknown as [string, string, string, string];
    if (col === '_measurement') measurements.push(value);
    else if (col === '_field') fields.push(value);
    else if (!BUILTIN.has(col)) tagFilters.push({ tag: col, value });
  }
  const count = (re: RegExp): number => [...norm.matchAll(re)].length;
  if (count(/_measurement/g) !== measurements.length)
    problems.push('_measurement is named other than as r._measurement == "…"');
  if (count(/\b_field\b/g) - count(/columnKey:\s*\["_field"\]/g) !== fields.length)
    problems.push('_field is named other than as r._field == "…" (or a pivot on it)');
  const columnRefs = [...new Set([...norm.matchAll(/\br\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))];
  const columnLists: string[] = [];
  for (const m of norm.matchAll(/\b(?:columns|rowKey|columnKey)\s*:\s*\[([^\]]*)\]/g)) {
    for (const s of m[1]!.matchAll(/"([^"]*)"/g)) columnLists.push(s[1]!);
  }
  for (const m of norm.matchAll(/\bvalueColumn\s*:\s*"([^"]*)"/g)) columnLists.push(m[1]!);
  if (!/from\(bucket:\s*v\.defaultBucket\)/.test(query))
    problems.push('does not read from(bucket: v.defaultBucket) (the provisioned bucket)');
  if (!/range\(start:\s*v\.timeRangeStart,\s*stop:\s*v\.timeRangeStop\)/.test(query))
    problems.push("does not limit itself to the dashboard's time range");
  return {
    measurements,
    fields,
    tagFilters,
    columnRefs,
    columnLists,
    pivotsFields: /columnKey:\s*\["_field"\]/.test(norm),
    problems,
  };
}

/** Every way the query's names differ from core/influx-schema.ts; empty when they all exist. */
export function checkFluxAgainstSchema(
  query: string,
  schema: Record<string, InfluxMeasurement> = INFLUX_SCHEMA,
): string[] {
  const n = fluxNames(query);
  const out = [...n.problems];
  if (n.measurements.length === 0) out.push('filters on no _measurement');
  const ms = n.measurements.map((m) => [m, schema[m]] as const);
  for (const [m, s] of ms)
    if (!s) out.push(`measurement ${m} is not in the schema (${Object.keys(schema).join(', ')})`);
  const known = ms.flatMap(([, s]) => (s ? [s] : []));
  const fieldsOf = new Set(known.flatMap((s) => Object.keys(s.fields)));
  const tagsOf = new Set(known.flatMap((s) => [...s.tags]));
  for (const f of n.fields)
    if (!fieldsOf.has(f))
      out.push(`field ${f} is not a field of ${n.measurements.join(', ')} (${[...fieldsOf].join(', ')})`);
  for (const t of n.tagFilters) {
    // After a pivot on _field, the fields are columns: comparing them is fine, but not with a string.
    if (!tagsOf.has(t.tag)) {
      out.push(`tag ${t.tag} is not a tag of ${n.measurements.join(', ')} (${[...tagsOf].join(', ') || 'none'})`);
      continue;
    }
    const allowed = known.flatMap((s) => s.tagValues?.[t.tag] ?? []);
    if (allowed.length > 0 && !allowed.includes(t.value))
      out.push(`tag ${t.tag} never has the value "${t.value}" (${allowed.join(', ')})`);
  }
  for (const c of n.columnRefs) {
    if (BUILTIN.has(c) || tagsOf.has(c)) continue;
    if (n.pivotsFields && fieldsOf.has(c)) continue;
    out.push(
      `r.${c} is neither a built-in column nor a tag of ${n.measurements.join(', ')}${n.pivotsFields ? ', nor a pivoted field' : ''}`,
    );
  }
  for (const c of n.columnLists)
    if (!BUILTIN.has(c) && !tagsOf.has(c))
      out.push(
        `column "${c}" (group/sort/pivot) is neither a built-in column nor a tag of ${n.measurements.join(', ')}`,
      );
  return out;
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  datasource: unknown;
  query: string;
}

/** Every target's Flux query of a dashboard JSON model, rows' nested panels included. */
export function dashboardQueries(dash: { panels?: unknown[] }): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (panels: unknown[]): void => {
    for (const p of panels as {
      title?: string;
      panels?: unknown[];
      targets?: { refId?: string; query?: string; datasource?: unknown }[];
      datasource?: unknown;
    }[]) {
      if (p.panels) walk(p.panels);
      for (const t of p.targets ?? [])
        out.push({
          panel: p.title ?? '?',
          refId: t.refId ?? '?',
          datasource: t.datasource ?? p.datasource,
          query: t.query ?? '',
        });
    }
  };
  walk(dash.panels ?? []);
  return out;
}
