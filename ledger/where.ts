/** A bound value of a list filter; undefined leaves its condition out. */
export type Arg = string | number;

/** The WHERE clause of the conditions whose value is given, and their values in order. */
export function whereOf(parts: [string, Arg | undefined][]): { sql: string; args: Arg[] } {
  const used = parts.filter((p): p is [string, Arg] => p[1] !== undefined);
  return { sql: used.length ? 'WHERE ' + used.map((p) => p[0]).join(' AND ') : '', args: used.map((p) => p[1]) };
}
