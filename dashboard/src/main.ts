// The dashboard: sign in, then a hash-routed page per view (#/, #/batches, #/calculations,
// #/calculations/<id>, #/events). Pages render into <main> and return a cleanup (timers, viewer).
import './style.css';
import { isUnauthorized } from './api.ts';
import { loadConfig, type DashboardConfig } from './config.ts';
import { errorBox, h, replace } from './dom.ts';
import { currentSession, storedToken, takeTokenFromFragment, tokenProblem, type Session } from './session.ts';
import { renderSignIn } from './pages/sign-in.ts';
import { renderOverview } from './pages/overview.ts';
import { renderBatches } from './pages/batches.ts';
import { renderCalculations } from './pages/calculations.ts';
import { renderCalculation } from './pages/calculation.ts';
import { renderEvents } from './pages/events.ts';

export interface PageContext {
  session: Session;
  config: DashboardConfig;
  /** The query part of the hash route (`#/calculations?method=GFN2-xTB`). */
  params: URLSearchParams;
  /** Shows a failed call; a 401 signs out and asks for a new sign-in. */
  fail(where: Element, err: unknown): void;
}

type Page = (main: HTMLElement, ctx: PageContext, arg?: string) => (() => void) | void;

const ROUTES: { pattern: RegExp; page: Page; nav: string }[] = [
  { pattern: /^\/?$/, page: renderOverview, nav: 'overview' },
  { pattern: /^\/batches$/, page: renderBatches, nav: 'batches' },
  { pattern: /^\/calculations$/, page: renderCalculations, nav: 'calculations' },
  { pattern: /^\/calculations\/([0-9a-f-]{36})$/, page: renderCalculation, nav: 'calculations' },
  { pattern: /^\/events$/, page: renderEvents, nav: 'events' },
];

const root = document.getElementById('app')!;
let cleanup: (() => void) | void;

async function boot(notice: string | null = null): Promise<void> {
  cleanup?.();
  cleanup = undefined;
  // Until a session exists, a route change means nothing, except a new #token= to sign in with.
  window.onhashchange = () => { if (location.hash.startsWith('#token=')) void boot(); };
  let config: DashboardConfig;
  try {
    config = await loadConfig();
  } catch (err) {
    replace(root, h('main', {}, h('h1', {}, 'Quantum Forge Data'), errorBox(err)));
    return;
  }
  takeTokenFromFragment();
  const stale = storedToken();
  const session = await currentSession(config);
  if (!session) {
    renderSignIn(root, config, notice ?? (stale ? tokenProblem(stale) : null), () => void boot());
    return;
  }
  const main = h('main', { id: 'page' });
  const links = ['overview', 'batches', 'calculations', 'events'].map((name) =>
    h('a', { href: name === 'overview' ? '#/' : `#/${name}`, 'data-nav': name }, name[0].toUpperCase() + name.slice(1)));
  replace(root,
    h('header', {},
      h('a', { class: 'brand', href: '#/' }, 'Quantum Forge Data'),
      h('nav', {}, ...links),
      h('span', { class: 'who', title: config.url }, session.who),
      h('button', { type: 'button', class: 'link', onclick: () => void session.signOut().then(() => boot()) }, 'Sign out')),
    main);

  const ctx = (params: URLSearchParams): PageContext => ({
    session, config, params,
    fail: (where, err) => {
      if (isUnauthorized(err)) {
        void session.signOut().then(() => boot('Your session has ended (the token expired or was refused). Sign in again.'));
        return;
      }
      where.replaceChildren(errorBox(err));
    },
  });

  const route = () => {
    if (location.hash.startsWith('#token=')) return void boot();
    cleanup?.();
    const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
    const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
    for (const link of links) link.classList.toggle('active', link.dataset.nav === match?.r.nav);
    if (!match) {
      replace(main, h('p', { class: 'error' }, `No page at ${location.hash}.`), h('a', { href: '#/' }, 'Overview'));
      return;
    }
    main.replaceChildren();
    cleanup = match.r.page(main, ctx(new URLSearchParams(query)), match.m![1]);
  };
  window.onhashchange = route;
  route();
}

void boot();
