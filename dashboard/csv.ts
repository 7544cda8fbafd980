/**
 * CSV of any list the API returns: a header row of the column names, RFC 4180
 * quoting, times already ISO 8601 UTC (the routes convert them), numbers as
 * they are (Wh integers, decimal-string prices), null as an empty field.
 */
export function toCsv(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    // A leading = + - @ tab or CR makes a spreadsheet formula; quote-prefix it (OWASP CSV injection).
    // Only a plain decimal number may start with "-" unprefixed: "-1+cmd|…" starts with a digit too.
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [columns.join(',')];
  for (const r of rows) lines.push(columns.map((c) => cell(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
