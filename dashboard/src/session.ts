// Signing in, as a user's own code would: supabase-js with the project's URL and anon key, and
// either a Supabase Auth session (hosted: email and password, or a magic link) or an access token
// the user pastes (or that `npm start` hands over in the URL fragment, never the query string).
// Either way the typed client (shared/client.ts) sends the user's token with every call.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { QfClient } from '../../shared/client.ts';
import type { DashboardConfig } from './config.ts';

export interface Session {
  client: QfClient;
  /** The current access token, for the export's streamed fetch. */
  token(): Promise<string>;
  /** Who is signed in: an email, or the token's user id. */
  who: string;
  /** Forgets the token or ends the Auth session. */
  signOut(): Promise<void>;
}

const TOKEN_KEY = 'qf.dashboard.token';

export interface TokenClaims {
  sub?: string;
  role?: string;
  exp?: number;
  email?: string;
}

/** The claims of a JWT, read without verifying it (the functions verify it); null if it is not one. */
export function readClaims(token: string): TokenClaims | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    return JSON.parse(json) as TokenClaims;
  } catch {
    return null;
  }
}

/** Why a token cannot sign anyone in, or null when it looks usable. */
export function tokenProblem(token: string): string | null {
  const claims = readClaims(token);
  if (!claims) return 'This is not an access token (a JWT has three parts separated by dots).';
  if (claims.role !== 'authenticated' || !claims.sub) return 'This token does not belong to a user (its role must be authenticated).';
  if (claims.exp && claims.exp * 1000 <= Date.now()) return `This token expired at ${new Date(claims.exp * 1000).toLocaleString()}.`;
  return null;
}

/** A `#token=…` fragment, consumed: kept for this tab and removed from the address bar. */
export function takeTokenFromFragment(): void {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname + location.search + '#/');
}

export function useToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

function tokenSession(config: DashboardConfig, token: string): Session {
  // `accessToken` is supabase-js' option for tokens issued outside Supabase Auth.
  const supabase = createClient(config.url, config.anonKey, { accessToken: async () => token });
  const claims = readClaims(token);
  return {
    client: new QfClient(supabase, { attempts: 3 }),
    token: async () => token,
    who: claims?.email ?? `user ${claims?.sub ?? '?'}`,
    signOut: async () => sessionStorage.removeItem(TOKEN_KEY),
  };
}

let authClient: SupabaseClient | undefined;

/** The Supabase Auth client of a hosted project (one per page: it owns the stored session). */
export function auth(config: DashboardConfig): SupabaseClient {
  authClient ??= createClient(config.url, config.anonKey, { auth: { persistSession: true, detectSessionInUrl: true } });
  return authClient;
}

/** The session to use, if any: a pasted token first, then a Supabase Auth session (hosted). */
export async function currentSession(config: DashboardConfig): Promise<Session | null> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token && !tokenProblem(token)) return tokenSession(config, token);
  if (token) sessionStorage.removeItem(TOKEN_KEY);
  if (config.local) return null;
  const supabase = auth(config);
  const { data } = await supabase.auth.getSession();
  if (!data.session) return null;
  return {
    client: new QfClient(supabase, { attempts: 3 }),
    token: async () => (await supabase.auth.getSession()).data.session?.access_token ?? '',
    who: data.session.user.email ?? `user ${data.session.user.id}`,
    // This browser only: the session is dropped before the Auth service is told.
    signOut: async () => {
      await supabase.auth.signOut({ scope: 'local' });
    },
  };
}

export const storedToken = () => sessionStorage.getItem(TOKEN_KEY);
