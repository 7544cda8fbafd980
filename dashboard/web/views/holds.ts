import { ApiError, get, send } from '../api.js';
import { h, replace, table, time } from '../dom.js';

/** One row of GET /api/meter-data/holds (dashboard/routes/meter-data.ts). */
export interface Hold {
  interval: string;
  meterId: string;
  participant: string;
  importWh: number;
  exportWh: number;
  reasons: { code: string; message: string }[];
  heldAt: string;
  deadline: string;
  decision: 'accept' | 'replace' | 'reject' | 'estimate' | null;
  decidedImportWh: number | null;
  decidedExportWh: number | null;
  decidedStatus: string | null;
  method: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  decidedAt: string | null;
  appliedIn: string | null;
}

type Choice = 'accept' | 'replace-value' | 'replace-estimate' | 'reject';

const CHOICES: [Choice, string][] = [
  ['accept', 'accept (the held value becomes actual)'],
  ['replace-value', 'replace with a value'],
  ['replace-estimate', 'replace with the estimate'],
  ['reject', 'reject (0 Wh)'],
];

/** A hold's key on the page (data-hold), the same in both tables. */
const key = (x: Pick<Hold, 'meterId' | 'interval'>): string => `${x.meterId}@${x.interval}`;

/**
 * The operator's queue of held meter data: pending holds with their reasons
 * (codes and the numbers in the text) and the deadline after which the system
 * estimates them, each with a decision form (a reason is required, as the API
 * requires one); decided holds below with who, when and why. Errors from the
 * API (a hold decided meanwhile, a bad value) are shown beside the form, the
 * list is read again after every decision so the page says what the ledger says.
 */
export function holdsPanel(el: HTMLElement): () => Promise<void> {
  const message = h('p#holds-message', { role: 'status' });
  const pending = h('div#holds-pending');
  const decided = h('div#holds-decided');
  replace(el, message, pending, h('h3', {}, 'Decided'), decided);

  const load = async (): Promise<void> => {
    const all = await get<Hold[]>('/api/meter-data/holds?all=true');
    const open = all.filter((x) => x.decision === null);
    const done = all.filter((x) => x.decision !== null).sort((a, b) => (a.decidedAt! < b.decidedAt! ? 1 : -1));
    el.dataset.pending = String(open.length);
    el.dataset.decided = String(done.length);
    replace(
      pending,
      table(
        open,
        [
          ['meter', (x) => x.meterId],
          ['participant', (x) => x.participant],
          ['interval (UTC)', (x) => time(x.interval)],
          ['import Wh', (x) => x.importWh],
          ['export Wh', (x) => x.exportWh],
          ['reasons', (x) => reasons(x)],
          ['decide by', (x) => time(x.deadline)],
          ['decision', (x) => decisionForm(x, message, load)],
        ],
        'No held meter data: every meter-interval passed validation or is decided.',
      ),
    );
    markRows(pending, open);
    replace(
      decided,
      table(
        done,
        [
          ['meter', (x) => x.meterId],
          ['interval (UTC)', (x) => time(x.interval)],
          ['held Wh (import / export)', (x) => `${x.importWh} / ${x.exportWh}`],
          ['decision', (x) => h('span.decision', {}, x.decision)],
          [
            'now',
            (x) =>
              `${x.decidedStatus ?? ''}${x.method ? ` (${x.method})` : ''}: ${x.decidedImportWh ?? '—'} / ${x.decidedExportWh ?? '—'} Wh`,
          ],
          ['by', (x) => x.decidedBy ?? '—'],
          ['when', (x) => time(x.decidedAt)],
          ['why', (x) => h('span.why', {}, x.decisionReason ?? '')],
          ['billed in', (x) => (x.appliedIn ? time(x.appliedIn) : 'the next statement')],
        ],
        'No decisions yet.',
      ),
    );
    markRows(decided, done);
  };
  load().catch((e: Error) => replace(pending, h('p.error', {}, `The held meter data could not be read: ${e.message}`)));
  return load;
}

/** Each row says which hold it shows (data-hold="meter@interval"), for whoever checks the page. */
function markRows(el: HTMLElement, rows: Hold[]): void {
  const trs = el.querySelectorAll('tbody tr');
  for (let i = 0; i < trs.length; i++) trs[i]!.setAttribute('data-hold', key(rows[i]!));
}

function reasons(x: Hold): HTMLElement {
  return h(
    'ul.reasons',
    {},
    ...x.reasons.map((r) => h('li', { title: r.code }, h('code', {}, r.code), ' ', r.message)),
  );
}

function decisionForm(x: Hold, message: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const choice = h(
    'select',
    { name: 'decision', 'aria-label': 'decision' },
    ...CHOICES.map(([v, label]) => h('option', { value: v }, label)),
  );
  const imp = h('input', {
    name: 'importWh',
    type: 'number',
    min: 0,
    step: 1,
    value: x.importWh,
    'aria-label': 'import Wh',
    class: 'wh',
  });
  const exp = h('input', {
    name: 'exportWh',
    type: 'number',
    min: 0,
    step: 1,
    value: x.exportWh,
    'aria-label': 'export Wh',
    class: 'wh',
  });
  const values = h('span.values', { hidden: true }, imp, ' / ', exp, ' Wh');
  const why = h('input', {
    name: 'reason',
    type: 'text',
    required: true,
    maxlength: 500,
    placeholder: 'why (required)',
    'aria-label': 'reason',
  });
  const button = h('button', { type: 'submit' }, 'Decide');
  const form = h('form.decide', {}, choice, values, why, button);
  choice.onchange = () => (values.hidden = choice.value !== 'replace-value');
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const reason = why.value.trim();
    if (!reason) {
      show(message, 'error', `A decision on ${x.meterId} at ${time(x.interval)} needs a reason.`);
      why.focus();
      return;
    }
    const c = choice.value as Choice;
    const body: Record<string, unknown> = {
      interval: x.interval,
      meterId: x.meterId,
      reason,
      decision: c.startsWith('replace') ? 'replace' : c,
    };
    if (c === 'replace-estimate') body.estimate = true;
    if (c === 'replace-value') {
      body.importWh = Number(imp.value);
      body.exportWh = Number(exp.value);
    }
    button.disabled = true;
    send<Hold>('POST', '/api/meter-data/holds/decision', body)
      .then((d) =>
        show(
          message,
          'ok',
          `${d.meterId} at ${time(d.interval)}: ${d.decision}, now ${d.decidedStatus} ${d.decidedImportWh} / ${d.decidedExportWh} Wh.`,
        ),
      )
      .catch((e: Error) =>
        show(
          message,
          'error',
          `${x.meterId} at ${time(x.interval)}: ${e instanceof ApiError ? `${e.code} (${e.status}) ` : ''}${e.message}`,
        ),
      )
      .finally(
        () =>
          void reload().catch((e: Error) =>
            show(message, 'error', `The held meter data could not be read again: ${e.message}`),
          ),
      );
  };
  return form;
}

function show(el: HTMLElement, kind: 'ok' | 'error', text: string): void {
  el.className = kind;
  el.textContent = text;
}
