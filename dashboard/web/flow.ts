import type { LiveState, MeterLive } from '../live/model.js';
import { watts } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

interface HouseFlow {
  id: string;
  gridW: number | null;
  pvW: number | null;
}

/** Households from the meters: net grid power (positive = import) and pv generation. */
export function houses(state: LiveState): HouseFlow[] {
  const by = new Map<string, HouseFlow>();
  for (const m of Object.values(state.meters) as MeterLive[]) {
    if (!m.participantId) continue;
    const h = by.get(m.participantId) ?? { id: m.participantId, gridW: null, pvW: null };
    // A meter whose device does not answer has no present power (its last reading is the past): as the balance does.
    const device = m.deviceId === null ? undefined : state.devices[m.deviceId];
    const w = m.quality === 'missing' || (device !== undefined && device.status !== 'online') ? null : m.powerW;
    if (m.role === 'grid') h.gridW = w;
    // pv meters report production as negative power (flowing out); show it as generation.
    if (m.role === 'pv') h.pvW = w === null ? null : Math.max(0, -w);
    by.set(m.participantId, h);
  }
  return [...by.values()].sort((a, b) => a.id.localeCompare(b.id));
}

const MAX_ROWS = 16;

/**
 * The live power flow, hand-written SVG: households on the left, the
 * microgrid bus in the middle, the grid connection on the right. A line's
 * width grows with the power; its dashes run in the direction energy flows.
 * Values are only those the meters reported; a household without a reading
 * shows "no reading".
 */
export function renderFlow(svg: SVGSVGElement, state: LiveState): void {
  const list = houses(state);
  const shown = list.slice(0, MAX_ROWS);
  const rowH = 34;
  const height = Math.max(220, shown.length * rowH + 40);
  svg.setAttribute('viewBox', `0 0 760 ${height}`);
  svg.replaceChildren();
  const busX = 430;
  const busY = height / 2;
  const maxW = Math.max(1000, ...list.map((h) => Math.abs(h.gridW ?? 0)), Math.abs(state.balance.netGridW ?? 0));
  const width = (w: number | null) => (w === null ? 1 : 1.5 + 7 * Math.min(1, Math.abs(w) / maxW));

  svg.append(s('rect', { x: busX - 8, y: 20, width: 16, height: height - 40, rx: 4, class: 'bus' }));
  svg.append(s('text', { x: busX, y: 14, 'text-anchor': 'middle', class: 'label' }, 'microgrid'));

  shown.forEach((h, i) => {
    const y = 30 + i * rowH + rowH / 2;
    const dir = h.gridW === null ? 'none' : h.gridW < 0 ? 'export' : h.gridW > 0 ? 'import' : 'none';
    // export: energy flows house → bus (left to right); import: bus → house.
    const line =
      dir === 'import'
        ? s('line', { x1: busX - 8, y1: y, x2: 200, y2: y })
        : s('line', { x1: 200, y1: y, x2: busX - 8, y2: y });
    line.setAttribute('class', `flow ${dir}`);
    line.setAttribute('stroke-width', String(width(h.gridW)));
    svg.append(line);
    svg.append(
      s('rect', { x: 10, y: y - 14, width: 190, height: 28, rx: 6, class: `house ${dir}`, 'data-participant': h.id }),
    );
    svg.append(s('text', { x: 20, y: y + 5, class: 'name' }, h.id));
    svg.append(
      s(
        'text',
        { x: 192, y: y + 5, 'text-anchor': 'end', class: 'value', 'data-flow': h.id },
        h.gridW === null ? 'no reading' : `${h.gridW < 0 ? '↑' : '↓'} ${watts(Math.abs(h.gridW))}`,
      ),
    );
    if (h.pvW !== null)
      svg.append(s('text', { x: 300, y: y - 4, 'text-anchor': 'middle', class: 'pv' }, `☀ ${watts(h.pvW)}`));
  });
  if (list.length > shown.length)
    svg.append(
      s(
        'text',
        { x: 20, y: height - 6, class: 'label' },
        `+ ${list.length - shown.length} more households (in the aggregate)`,
      ),
    );
  if (list.length === 0) svg.append(s('text', { x: 20, y: busY, class: 'label' }, 'no household meters visible'));

  const net = state.balance.netGridW;
  const gdir = net === null ? 'none' : net > 0 ? 'import' : net < 0 ? 'export' : 'none';
  const gl =
    gdir === 'import'
      ? s('line', { x1: 620, y1: busY, x2: busX + 8, y2: busY })
      : s('line', { x1: busX + 8, y1: busY, x2: 620, y2: busY });
  gl.setAttribute('class', `flow ${gdir}`);
  gl.setAttribute('stroke-width', String(width(net)));
  svg.append(gl);
  svg.append(s('rect', { x: 620, y: busY - 30, width: 130, height: 60, rx: 8, class: `grid ${gdir}` }));
  svg.append(s('text', { x: 685, y: busY - 10, 'text-anchor': 'middle', class: 'name' }, 'grid connection'));
  svg.append(
    s(
      'text',
      { x: 685, y: busY + 14, 'text-anchor': 'middle', class: 'value', 'data-flow': 'grid' },
      net === null ? 'no reading' : `${net > 0 ? 'import' : net < 0 ? 'export' : ''} ${watts(Math.abs(net))}`,
    ),
  );
  // There is no meter at the point of common coupling in the config, so the unmetered remainder cannot be measured: say
  // so.
  svg.append(
    s('text', { x: 685, y: busY + 50, 'text-anchor': 'middle', class: 'label' }, 'unmetered remainder: needs a'),
  );
  svg.append(s('text', { x: 685, y: busY + 64, 'text-anchor': 'middle', class: 'label' }, 'grid-connection meter'));
}
