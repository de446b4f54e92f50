// Signing keys over real HTTP: the functions (Deno) run with the legacy secret and a JWKS URL at
// once, the JWKS being served by this test, so the keys can be rotated and the endpoint made to
// hang. The refetch cooldown is set to 1 ms here (30 s by default; test/foundation/auth.test.ts
// checks the cooldown itself on a clock it moves), so each step may refetch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { LOCAL_AUTH_ISSUER } from '../../scripts/stack/keys.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { newSigningKey, startJwksServer, type JwksServer, type SigningKey } from '../support/jwks-server.ts';

let stack: TestStack;
let keys: JwksServer;
let k1: SigningKey;
let k2: SigningKey;
const USER = randomUUID();
const claims = (extra: Record<string, unknown> = {}) =>
  ({ iss: LOCAL_AUTH_ISSUER, aud: 'authenticated', role: 'authenticated', sub: USER, ...extra });

beforeAll(async () => {
  [k1, k2] = await Promise.all([newSigningKey('k1'), newSigningKey('k2')]);
  keys = await startJwksServer([k1.jwk]);
  stack = await startTestStack({
    JWKS_URL: keys.jwksUrl,
    JWKS_FETCH_TIMEOUT_MS: '500',
    JWKS_REFETCH_COOLDOWN_MS: '1',
  });
});
afterAll(async () => {
  await stack?.destroy();
  await keys?.close();
});

async function health(token: string) {
  const res = await fetch(`${stack.url}/functions/v1/health`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() as any };
}

describe('signing keys and the legacy secret in the functions', () => {
  it('accepts an ES256 user token and the HS256 keys side by side', async () => {
    expect((await health(await k1.sign(claims()))).status).toBe(200);
    expect((await health(stack.anonKey)).status).toBe(200);
    expect((await health(stack.serviceRoleKey)).status).toBe(200);
  });

  it('refuses a wrong aud or iss with 401', async () => {
    for (const bad of [claims({ aud: 'anon' }), claims({ iss: 'https://other.supabase.co/auth/v1' })]) {
      const res = await health(await k1.sign(bad));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('accepts a key rotated in after start, through a refetch', async () => {
    const before = keys.requests();
    keys.setKeys([k1.jwk, k2.jwk]);
    expect((await health(await k2.sign(claims()))).status).toBe(200);
    expect(keys.requests()).toBeGreaterThan(before);
  });

  it('answers 503 when the key endpoint hangs, and keeps answering HS256 tokens', async () => {
    keys.setMode('hang');
    const k3 = await newSigningKey('k3');
    const res = await health(await k3.sign(claims()));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('auth_unavailable');
    // Known keys need no fetch, and the legacy secret needs none either.
    expect((await health(await k1.sign(claims()))).status).toBe(200);
    expect((await health(stack.anonKey)).status).toBe(200);
    keys.setMode('serve');
  });
});
