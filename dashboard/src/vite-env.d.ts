/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The hosted project's URL, e.g. https://<ref>.supabase.co (set at build time). */
  readonly VITE_SUPABASE_URL?: string;
  /** The project's anon (or publishable) key (set at build time). */
  readonly VITE_SUPABASE_ANON_KEY?: string;
}
