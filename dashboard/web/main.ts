import 'uplot/dist/uPlot.min.css';
import './style.css';
import { ApiError, get, setToken, token, type Me } from './api.js';
import { h, replace, $ } from './dom.js';
import { LiveStream } from './stream.js';
import { operatorView, type View } from './views/operator.js';
import { householdView } from './views/household.js';
import { auditorView } from './views/auditor.js';

/**
 * The page: who am I (GET /api/me with the token from sessionStorage), the
 * view for that role, and one live stream feeding it. Without a token the
 * public, aggregate view.
 */
async function boot(): Promise<void> {
  tokenFromAddress();
  let me: Me;
  try {
    me = await get<Me>('/api/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setToken(null);
      me = await get<Me>('/api/me');
    } else throw e;
  }
  document.title = `${me.microgrid} · microgrid-exchange`;
  header(me);
  const view: View =
    me.role === 'household'
      ? householdView(me)
      : me.role === 'auditor'
        ? auditorView(me)
        : operatorView({ public: me.role === 'public' });
  replace($('#app'), view.root);
  const stream = new LiveStream();
  const pill = $('#status');
  stream.onStatus = (s) => {
    pill.textContent = s;
    pill.className = `pill ${s}`;
  };
  stream.onChange = (frame) => {
    if (!stream.state) return;
    view.update(stream.state, frame);
    document.body.dataset.seq = String(stream.seq);
  };
  await stream.start();
}

/**
 * A sign-in link (`/#token=…`, as `npm start` logs one per role): the token is
 * kept for the session like one typed into the sign-in box, and dropped from
 * the address bar and the history at once. A fragment never reaches the
 * server, so it is in no request log either.
 */
function tokenFromAddress(): void {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (!m) return;
  setToken(decodeURIComponent(m[1]!).trim() || null);
  history.replaceState(null, '', location.pathname + location.search);
}

function header(me: Me): void {
  const login = h(
    'form#login',
    {},
    h('input', {
      name: 'token',
      type: 'password',
      placeholder: 'access token',
      autocomplete: 'off',
      'aria-label': 'access token',
    }),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  login.onsubmit = (ev) => {
    ev.preventDefault();
    setToken((login.elements.namedItem('token') as HTMLInputElement).value.trim() || null);
    location.reload();
  };
  const who = me.role === 'public' ? 'public view' : `${me.role}${me.participant ? ` · ${me.participant}` : ''}`;
  const logout = h('button', { onclick: () => (setToken(null), location.reload()) }, 'Sign out');
  replace(
    $('#top'),
    h('h1', {}, me.microgrid),
    h('span#status.pill', {}, 'connecting'),
    h('span#who', {}, who),
    h('span.spacer'),
    token() ? logout : login,
    h('a', { href: '/api/docs', target: '_blank' }, 'API'),
  );
}

boot().catch((e: Error) => replace($('#app'), h('p.error', {}, `The dashboard could not start: ${e.message}`)));
