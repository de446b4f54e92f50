// Browsers call the functions from other origins (the dashboard's static host): preflights are
// answered for every header supabase-js sends, before authentication, and errors and exports carry
// the headers a page needs to read them.
import { corsHeaders } from '@supabase/supabase-js/cors';
import { describe, expect, inject, it } from 'vitest';
import { newUser } from '../support/users.ts';

const ORIGIN = 'https://dashboard.example.org';
const url = (path: string) => `${inject('stack').url}/functions/v1/${path}`;

describe('CORS', () => {
  it.each(['health', 'ingest', 'query/stats', 'batches/claim'])('answers the preflight of %s for every supabase-js header, without a token', async (path) => {
    const res = await fetch(url(path), {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': corsHeaders['Access-Control-Allow-Headers'],
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const allowed = res.headers.get('access-control-allow-headers')!.split(',').map((h) => h.trim().toLowerCase());
    for (const header of corsHeaders['Access-Control-Allow-Headers'].split(',')) expect(allowed).toContain(header.trim().toLowerCase());
    expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
  });

  it('lets a page read an error body and an export cursor', async () => {
    const refused = await fetch(url('query/stats'), { headers: { origin: ORIGIN } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect((await refused.json()).error.code).toBe('unauthorized');

    const { token } = await newUser();
    const res = await fetch(url('query/export?format=ndjson&limit=1'), { headers: { origin: ORIGIN, authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-next-cursor');
    await res.body?.cancel();
  });
});
