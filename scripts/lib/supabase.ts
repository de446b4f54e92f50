// A supabase-js client for Node scripts. Node 20 has no global WebSocket, which supabase-js'
// realtime client insists on at construction, so it is given `ws` (realtime itself is unused).
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';

export function nodeSupabase(url: string, key: string) {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as unknown as typeof globalThis.WebSocket },
  });
}
