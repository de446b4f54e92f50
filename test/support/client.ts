// The typed client as users build it: supabase-js pointed at the test stack.
import { inject } from 'vitest';
import { QfClient, type ClientOptions } from '../../shared/client.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';

export function clientFor(token: string, opts: ClientOptions = {}): QfClient {
  return new QfClient(nodeSupabase(inject('stack').url, token), opts);
}
