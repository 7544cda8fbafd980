/** The API from the page: the bearer token lives in sessionStorage (gone when the tab closes). */
const KEY = 'mgx-token';

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(t: string | null): void {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call(method: string, url: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (!res.ok) {
    const e = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
    throw new ApiError(res.status, e.code ?? 'HTTP', e.message ?? res.statusText);
  }
  return res;
}

export const get = async <T>(url: string): Promise<T> => (await call('GET', url)).json() as Promise<T>;
export const send = async <T>(method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<T> =>
  (await call(method, url, body)).json() as Promise<T>;

/** Downloads `url` as CSV (with the token, which a plain link could not carry). */
export async function downloadCsv(url: string, name: string): Promise<void> {
  const res = await call('GET', url + (url.includes('?') ? '&' : '?') + 'format=csv');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await res.blob());
  a.download = `${name}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export interface Me {
  role: 'public' | 'operator' | 'household' | 'auditor';
  participant: string | null;
  microgrid: string;
  currency: string;
  intervalMinutes: number;
  gateClosureSeconds: number;
  priceFloor: string;
  priceCap: string;
}
