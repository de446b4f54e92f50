// Which project the dashboard talks to. A hosted build names it at build time (VITE_SUPABASE_URL,
// VITE_SUPABASE_ANON_KEY); the local server (`npm start`) answers /config.json beside the page
// instead, so one build serves any local stack, whatever its ports and keys.
export interface DashboardConfig {
  /** The project URL; functions live at `${url}/functions/v1/<name>`. */
  url: string;
  /** The anon (or publishable) key: supabase-js needs one, user tokens do the rest. */
  anonKey: string;
  /** The local stack: there is no Auth service, so users sign in with a token. */
  local: boolean;
}

export async function loadConfig(): Promise<DashboardConfig> {
  const { VITE_SUPABASE_URL: url, VITE_SUPABASE_ANON_KEY: anonKey } = import.meta.env;
  if (url && anonKey) return { url: url.replace(/\/$/, ''), anonKey, local: false };
  const res = await fetch('./config.json', { cache: 'no-store' }).catch(() => undefined);
  if (!res?.ok) {
    throw new Error('No project is configured: build with VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY, or open the URL that `npm start` prints.');
  }
  const config = await res.json() as Partial<DashboardConfig>;
  if (!config.url || !config.anonKey) throw new Error('config.json must name url and anonKey');
  return { url: config.url.replace(/\/$/, ''), anonKey: config.anonKey, local: config.local ?? true };
}
