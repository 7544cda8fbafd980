import type { AuditReport } from './types.js';

/** Replaces bigint for JSON output. */
export function reportToJson(r: AuditReport): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}

const csvCell = (v: unknown): string => {
  const s = String(v ?? '');
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per (interval, check), plus one row per failure: interval,check,result,record,expected,found,message. */
export function reportToCsv(r: AuditReport): string {
  const rows = [['interval', 'check', 'result', 'record', 'expected', 'found', 'message']];
  for (const i of r.intervals) {
    for (const c of i.checks) {
      rows.push([
        i.interval,
        c.check,
        c.pass ? 'pass' : 'fail',
        '',
        '',
        '',
        Object.entries(c.figures)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ]);
      for (const f of c.failures)
        rows.push([f.interval, f.check, 'fail', f.record, f.expected ?? '', f.found ?? '', f.message]);
    }
  }
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/**
 * A table: one line per interval with each check's pass/fail and key figures, then every failure with its record and
 * numbers.
 */
export function reportToTable(r: AuditReport): string {
  const out: string[] = [];
  out.push(`audit of ${r.from} .. ${r.to} against contract ${r.contract} on chain ${r.chainId}`);
  out.push('interval               readings   energy     clearing   credits    statements  export Wh  minted Wh');
  for (const i of r.intervals) {
    const cell = (name: string) => {
      const c = i.checks.find((x) => x.check === name);
      return (c ? (c.pass ? 'pass' : `FAIL(${c.failures.length})`) : '-').padEnd(11);
    };
    const credits = i.checks.find((c) => c.check === 'credits');
    out.push(
      `${i.interval.padEnd(23)}${cell('readings')}${cell('energy')}${cell('clearing')}${cell('credits')}${cell('statements')} ${String(credits?.figures.meteredExportWh ?? '-').padStart(9)}  ${String(credits?.figures.mintedWh ?? '-').padStart(9)}`,
    );
  }
  const failures = r.intervals.flatMap((i) => i.checks.flatMap((c) => c.failures));
  if (failures.length) {
    out.push('', `${failures.length} discrepancies:`);
    for (const f of failures)
      out.push(
        `  ${f.interval}  check ${f.check}  ${f.record}: ${f.message}${f.expected !== undefined ? `; expected ${f.expected}, found ${f.found ?? '?'}` : ''}`,
      );
  }
  out.push('', `${r.passed} of ${r.intervals.length} intervals pass, ${r.failed} fail: ${r.pass ? 'PASS' : 'FAIL'}`);
  return out.join('\n') + '\n';
}

/** A progress bar on a terminal (stderr is a TTY), nothing otherwise. */
export function progressBar(stream: NodeJS.WritableStream): ((done: number, total: number) => void) | undefined {
  if (!(stream as { isTTY?: boolean }).isTTY) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done !== total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = total ? Math.round((done / total) * width) : width;
    stream.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} intervals${done === total ? '\n' : ''}`,
    );
  };
}
