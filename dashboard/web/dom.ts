/** A tiny DOM helper: h('div.card', { onclick }, 'text', child). No framework needed for a page this size. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K | `${K}.${string}` | `${K}#${string}`,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name as K);
  for (const r of rest) {
    if (r.startsWith('.')) el.classList.add(r.slice(1));
    else el.id = r.slice(1);
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.classList.add(...String(v).split(' ').filter(Boolean));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children)
    if (c !== null && c !== undefined && c !== false)
      el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

export const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`no element ${sel}`);
  return el;
};

/** W → "1.23 kW" / "850 W"; null → "—". */
export function watts(w: number | null | undefined): string {
  if (w === null || w === undefined) return '—';
  return Math.abs(w) >= 1000 ? `${(w / 1000).toFixed(2)} kW` : `${Math.round(w)} W`;
}

export function kwh(wh: number | null | undefined): string {
  if (wh === null || wh === undefined) return '—';
  return `${(wh / 1000).toFixed(3)} kWh`;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC');
}

/** A table with a caption-less header; `empty` is shown when there are no rows. */
export function table<T>(
  rows: T[],
  cols: [string, (r: T) => Child][],
  empty: string,
  onRow?: (r: T) => void,
): HTMLElement {
  if (rows.length === 0) return h('p.empty', {}, empty);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...cols.map(([n]) => h('th', {}, n)))),
    h(
      'tbody',
      {},
      ...rows.map((r) =>
        h(
          'tr',
          onRow ? { onclick: () => onRow(r), class: 'clickable' } : {},
          ...cols.map(([, f]) => h('td', {}, f(r))),
        ),
      ),
    ),
  );
}
