import type { LiveState } from '../../live/model.js';
import { get, type Me } from '../api.js';
import { h, replace, table, time, $ } from '../dom.js';
import { balanceStrip, csvButton, alarmList } from '../widgets.js';
import type { View } from './operator.js';

interface AuditRow {
  start: string;
  state: string;
  meteredExportWh: number;
  matchedWh: number;
  tradesWh: number;
  creditsWh: number;
  tradesRoot: string | null;
  readingsRoot: string | null;
  commitTx: string | null;
  commitState: string | null;
  verification: 'verified' | 'mismatch' | 'pending';
  checks: { name: string; ok: boolean | null; detail: string }[];
}

interface AuditDetail {
  summary: AuditRow;
  trades: { kind: string; seq: number; buyer: string; seller: string; energyWh: number; price: string }[];
  energy: { meterId: string; participant: string; role: string; importWh: number; exportWh: number; quality: string }[];
  readings: {
    meterId: string;
    ts: string;
    powerW: number | null;
    importWh: number | null;
    exportWh: number | null;
    quality: string;
    signature: string | null;
  }[];
  readingsTruncated: boolean;
}

interface VerifyReport {
  intervals: {
    interval: string;
    pass: boolean;
    checks: { check: string; pass: boolean; failures: { message: string }[] }[];
  }[];
}

/** The utility audit's verdict per interval (ms start → verdict), as `mgx audit` gives it. */
type Verdicts = Map<number, { pass: boolean; failed: string[] }>;

const range = () => `from=${new Date(Date.now() - 366 * 86_400_000).toISOString()}`;

/** The auditor's page: every interval with its totals, commitment and verification, and a drill-down. */
export function auditorView(me: Me): View {
  const root = h(
    'main#auditor',
    {},
    h('section', {}, h('div#alarms')),
    h('section', {}, h('div#balance.strip')),
    h('section.card', {}, h('h2', {}, 'Intervals: commitments and verification'), h('div#audit')),
    h('section.card', {}, h('div#audit-detail')),
  );
  const drill = async (start: string): Promise<void> => {
    const d = await get<AuditDetail>(`/api/audit/intervals/${start}`);
    replace(
      $('#audit-detail', root),
      h('h3', {}, `Interval ${time(start)} · ${d.summary.verification}`),
      h(
        'ul.checks',
        {},
        ...d.summary.checks.map((c) =>
          h(
            `li.${c.ok === null ? 'pending' : c.ok ? 'ok' : 'bad'}`,
            {},
            `${c.ok === null ? '…' : c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`,
          ),
        ),
      ),
      h('h4', {}, 'Trades'),
      table(
        d.trades,
        [
          ['seq', (t) => t.seq],
          ['kind', (t) => t.kind],
          ['seller', (t) => t.seller],
          ['buyer', (t) => t.buyer],
          ['Wh', (t) => t.energyWh],
          ['price', (t) => t.price],
        ],
        'No trades.',
      ),
      h('h4', {}, 'Metered energy'),
      table(
        d.energy,
        [
          ['meter', (e) => e.meterId],
          ['participant', (e) => e.participant],
          ['role', (e) => e.role],
          ['import Wh', (e) => e.importWh],
          ['export Wh', (e) => e.exportWh],
          ['quality', (e) => e.quality],
        ],
        'No interval energy yet.',
      ),
      h('h4', {}, `Readings${d.readingsTruncated ? ' (first 5,000)' : ''}`),
      table(
        d.readings.slice(0, 200),
        [
          ['meter', (r) => r.meterId],
          ['time', (r) => time(r.ts)],
          ['W', (r) => r.powerW ?? '—'],
          ['import Wh', (r) => r.importWh ?? '—'],
          ['export Wh', (r) => r.exportWh ?? '—'],
          ['quality', (r) => r.quality],
          ['signed', (r) => (r.signature ? 'yes' : 'no')],
        ],
        'No readings stored for this interval.',
      ),
    );
  };
  // The audit runs against the chain (signatures, roots, a clearing re-run): once per new final
  // interval, never two at a time, over the final intervals only (the others are not on chain yet).
  let verdicts: Verdicts = new Map();
  let auditedTo = 0;
  let auditing: Promise<void> | null = null;
  let auditError: string | null = null;
  const runAudit = (rows: AuditRow[]): void => {
    const final = rows.filter((r) => r.state === 'final').map((r) => Date.parse(r.start));
    if (final.length === 0 || auditing) return;
    const step = me.intervalMinutes * 60_000;
    const to = Math.max(...final) + step;
    if (to <= auditedTo) return;
    const from = Math.max(Math.min(...final), to - 31 * 86_400_000);
    auditing = get<VerifyReport>(
      `/api/audit/verify?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
    )
      .then((r) => {
        verdicts = new Map(
          r.intervals.map((i) => [
            Date.parse(i.interval),
            {
              pass: i.pass,
              failed: i.checks.filter((c) => !c.pass).map((c) => `${c.check}: ${c.failures[0]?.message ?? 'failed'}`),
            },
          ]),
        );
        auditedTo = to;
        auditError = null;
      })
      .catch((e: Error) => void (auditError = e.message))
      .finally(() => {
        auditing = null;
        void load().catch(failed);
      });
  };
  const auditCell = (r: AuditRow) => {
    const v = verdicts.get(Date.parse(r.start));
    if (v)
      return h(
        `span.verify.${v.pass ? 'verified' : 'mismatch'}`,
        { 'data-audit': v.pass ? 'pass' : 'fail', title: v.failed.join('\n') },
        v.pass ? 'pass' : 'fail',
      );
    if (r.state !== 'final')
      return h('span.verify.pending', { 'data-audit': 'waiting' }, `after it is final (${r.state})`);
    return h(
      'span.verify.pending',
      { 'data-audit': 'running', title: auditError ?? '' },
      auditError ? 'audit failed to run' : 'auditing…',
    );
  };
  const load = async (): Promise<void> => {
    const rows = await get<AuditRow[]>(`/api/audit/intervals?${range()}`);
    runAudit(rows);
    replace(
      $('#audit', root),
      h(
        'div.controls',
        {},
        csvButton(() => `/api/audit/intervals?${range()}`, 'audit-intervals'),
      ),
      table(
        rows,
        [
          ['interval', (r) => time(r.start)],
          ['state', (r) => r.state],
          ['metered export', (r) => `${r.meteredExportWh} Wh`],
          ['matched', (r) => `${r.matchedWh} Wh`],
          ['credits', (r) => `${r.creditsWh} Wh`],
          [
            'trades root',
            (r) => (r.tradesRoot ? h('code', { title: r.tradesRoot }, `${r.tradesRoot.slice(0, 10)}…`) : '—'),
          ],
          [
            'readings root',
            (r) => (r.readingsRoot ? h('code', { title: r.readingsRoot }, `${r.readingsRoot.slice(0, 10)}…`) : '—'),
          ],
          ['commitment', (r) => (r.commitTx ? h('code', {}, `${r.commitTx.slice(0, 12)}…`) : '—')],
          [
            'ledger checks',
            (r) =>
              h(
                `span.verify.${r.verification}`,
                {
                  'data-ledger': r.verification,
                  title: r.checks
                    .filter((c) => c.ok !== true)
                    .map((c) => `${c.name}: ${c.detail}`)
                    .join('\n'),
                },
                r.verification,
              ),
          ],
          ['mgx audit', auditCell],
        ],
        'No intervals yet.',
        (r) => void drill(r.start),
      ),
    );
  };
  const failed = (e: Error) => replace($('#audit', root), h('p.error', {}, e.message));
  void load().catch(failed);
  return {
    root,
    update(state: LiveState, frame) {
      balanceStrip($('#balance', root), state);
      alarmList($('#alarms', root), state);
      if (
        frame.type === 'delta' &&
        frame.events.some(
          (e) => e.type === 'interval-cleared' || e.type === 'settlement-state' || e.type === 'interval-state',
        )
      )
        void load().catch(failed);
    },
  };
}
