// Sign-in. Hosted: Supabase Auth (email and password, or a magic link) through supabase-js. Local,
// where there is no Auth service: an access token, pasted here or brought by the URL `npm start` prints.
import { h, replace } from '../dom.ts';
import type { DashboardConfig } from '../config.ts';
import { auth, tokenProblem, useToken } from '../session.ts';

export function renderSignIn(root: HTMLElement, config: DashboardConfig, notice: string | null, signedIn: () => void): void {
  const message = h('p', { class: notice ? 'error' : 'hint', role: 'status' }, notice ?? '');
  const say = (text: string, error = true) => {
    message.className = error ? 'error' : 'hint';
    message.textContent = text;
  };

  const tokenInput = h('textarea', { name: 'token', rows: 4, placeholder: 'eyJhbGciOi…', spellcheck: false, required: true });
  const tokenForm = h('form', {
    class: 'card',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const token = tokenInput.value.trim();
      const problem = tokenProblem(token);
      if (problem) return say(problem);
      useToken(token);
      signedIn();
    },
  },
  h('h2', {}, 'Access token'),
  h('p', { class: 'hint' }, ...(config.local
    ? ['Open the dashboard URL that ', h('code', {}, 'npm start'), ' prints to sign in as the demo user, or paste a token from ',
      h('code', {}, 'npm run -s token -- --user <uuid> --create'), '.']
    : ['A user access token (a JWT) for this project.'])),
  tokenInput,
  h('button', { type: 'submit', class: 'primary' }, 'Sign in with token'));

  const cards: HTMLElement[] = [];
  if (!config.local) {
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
    const form = h('form', {
      class: 'card',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        say('Signing in…', false);
        const { error } = await auth(config).auth.signInWithPassword({ email: email.value, password: password.value });
        if (error) return say(error.message);
        signedIn();
      },
    },
    h('h2', {}, 'Sign in'),
    h('label', {}, 'Email', email),
    h('label', {}, 'Password', password),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
      h('button', {
        type: 'button',
        onclick: async () => {
          if (!email.reportValidity()) return;
          const { error } = await auth(config).auth.signInWithOtp({
            email: email.value,
            options: { shouldCreateUser: false, emailRedirectTo: location.origin + location.pathname },
          });
          say(error ? error.message : `A sign-in link is on its way to ${email.value}.`, !!error);
        },
      }, 'Email me a link')));
    cards.push(form);
  }
  replace(root, h('main', { class: 'sign-in' },
    h('h1', {}, 'Quantum Forge Data'),
    h('p', { class: 'hint' }, `Project: ${config.url}`),
    message,
    ...cards,
    config.local ? tokenForm : h('details', {}, h('summary', {}, 'Use an access token instead'), tokenForm)));
}
