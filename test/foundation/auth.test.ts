// Token verification (_shared/auth.ts), run in Node on the same module the functions use: the
// legacy HS256 secret and signing keys from a JWKS side by side, key rotation through a rate-limited
// refetch (on a clock the test moves), iss and aud, a key endpoint that fails or hangs (503), and
// errors that say what to do.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CompactSign, exportSPKI, SignJWT } from 'jose';
import { createVerifier } from '../../supabase/functions/_shared/auth.ts';
import { readEnv } from '../../supabase/functions/_shared/env.ts';
import { ApiError } from '../../supabase/functions/_shared/errors.ts';
import { LOCAL_AUTH_ISSUER, mintToken, newJwtSecret } from '../../scripts/stack/keys.ts';
import { call } from '../support/http.ts';
import { newSigningKey, startJwksServer, userClaims, type JwksServer, type SigningKey } from '../support/jwks-server.ts';

const USER = '3f1d7a52-6d0e-4c5b-9a43-0a8f1b2c3d4e';
const now = () => Math.floor(Date.now() / 1000);
const verifierFor = (vars: Record<string, string>, opts: { now?: () => number } = {}) =>
  createVerifier(readEnv((name) => vars[name]), opts);

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}
async function expect401(promise: Promise<unknown>, message?: RegExp) {
  const err = await refusal(promise);
  expect(err.status).toBe(401);
  if (message) expect(err.message).toMatch(message);
  // Never the library's own words.
  expect(err.message).not.toMatch(/claim timestamp check failed|JWS Protected Header is invalid|JWSInvalid|Invalid Compact JWS/);
  return err;
}

describe('configuration', () => {
  it('derives the issuer and the key URL from SUPABASE_URL, and lets each be set', () => {
    expect(readEnv((n) => ({ SUPABASE_URL: 'https://ref.supabase.co/' } as Record<string, string>)[n])).toMatchObject({
      authIssuer: 'https://ref.supabase.co/auth/v1',
      jwksUrl: 'https://ref.supabase.co/auth/v1/.well-known/jwks.json',
    });
    const set = readEnv((n) => ({
      SUPABASE_URL: 'https://ref.supabase.co', AUTH_ISSUER: 'https://auth.example.org/auth/v1', JWKS_URL: 'https://keys.example.org/jwks.json',
    } as Record<string, string>)[n]);
    expect(set).toMatchObject({ authIssuer: 'https://auth.example.org/auth/v1', jwksUrl: 'https://keys.example.org/jwks.json' });
    // An inline key set is pinned: nothing is fetched unless JWKS_URL says where.
    expect(readEnv((n) => ({ SUPABASE_URL: 'https://ref.supabase.co', SUPABASE_JWKS: '{"keys":[]}' } as Record<string, string>)[n]).jwksUrl)
      .toBeUndefined();
  });

  it('refuses to start without a key or without an issuer', () => {
    expect(() => verifierFor({ AUTH_ISSUER: LOCAL_AUTH_ISSUER })).toThrow(/no token key/);
    expect(() => verifierFor({ JWT_SECRET: 'x'.repeat(32) })).toThrow(/no token issuer/);
  });
});

describe('HS256 (local stack, legacy projects)', () => {
  const secret = newJwtSecret();
  const verify = verifierFor({ SUPABASE_JWT_SECRET: secret, AUTH_ISSUER: LOCAL_AUTH_ISSUER });
  const key = new TextEncoder().encode(secret);

  it('accepts a user token, the anon key and the service-role key as the stack mints them', async () => {
    const claims = await verify(await mintToken({ secret, role: 'authenticated', sub: USER }));
    expect(claims).toMatchObject({
      role: 'authenticated', sub: USER, aud: 'authenticated', iss: LOCAL_AUTH_ISSUER, aal: 'aal1', is_anonymous: false,
    });
    expect(claims.session_id).toBeTypeOf('string');
    expect(await verify(await mintToken({ secret, role: 'anon' }))).toMatchObject({ role: 'anon', iss: 'supabase' });
    expect(await verify(await mintToken({ secret, role: 'service_role' }))).toMatchObject({ role: 'service_role', iss: 'supabase' });
  });

  it('says when an expired token expired and how to get a new one', async () => {
    const exp = now() - 120;
    const token = await new SignJWT({ role: 'authenticated', sub: USER, aud: 'authenticated', iss: LOCAL_AUTH_ISSUER })
      .setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(key);
    const err = await expect401(verify(token));
    expect(err.message).toBe(
      `token expired at ${new Date(exp * 1000).toISOString()}; mint a new one (locally: npm run -s token -- --user <uuid>)`,
    );
  });

  it('says a malformed token is malformed', async () => {
    // A correctly signed token whose payload is not JSON is malformed too.
    const notJson = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'HS256' }).sign(key);
    for (const bad of ['not-a-jwt', '', 'a.b.c', notJson]) {
      await expect401(verify(bad), /^malformed token/);
    }
  });

  it('rejects not-yet-valid, wrong-key, alg none, sub not a UUID and an unknown role', async () => {
    const user = { role: 'authenticated', sub: USER, aud: 'authenticated', iss: LOCAL_AUTH_ISSUER };
    await expect401(verify(await new SignJWT(user)
      .setProtectedHeader({ alg: 'HS256' }).setNotBefore(now() + 600).setExpirationTime(now() + 900).sign(key)), /not valid before/);
    await expect401(verify(await mintToken({ secret: newJwtSecret(), role: 'authenticated', sub: USER })), /signature does not match/);
    const none = [
      Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url'),
      Buffer.from(JSON.stringify({ role: 'service_role', iss: 'supabase', exp: now() + 600 })).toString('base64url'),
      '',
    ].join('.');
    await expect401(verify(none), /algorithm "none" is not accepted/);
    await expect401(verify(await mintToken({ secret, role: 'authenticated', sub: 'alice' })), /UUID/);
    await expect401(verify(await new SignJWT({ role: 'postgres', iss: 'supabase' }).setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now() + 600).sign(key)), /role/);
  });

  it('checks aud and iss: a user token needs aud authenticated and the Auth issuer', async () => {
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ role: 'authenticated', sub: USER, ...claims }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now() + 600).sign(key);
    await expect401(verify(await sign({ aud: 'anon', iss: LOCAL_AUTH_ISSUER })), /aud "authenticated"/);
    await expect401(verify(await sign({ iss: LOCAL_AUTH_ISSUER })), /aud "authenticated"/);
    await expect401(verify(await sign({ aud: 'authenticated', iss: 'https://other.supabase.co/auth/v1' })), /issued by/);
    await expect401(verify(await sign({ aud: 'authenticated', iss: 'supabase' })), /issued by/);
    await expect401(verify(await sign({ aud: 'authenticated' })), /issued by/);
    expect(await verify(await sign({ aud: ['authenticated'], iss: LOCAL_AUTH_ISSUER }))).toMatchObject({ sub: USER });
    // The API keys: issued by "supabase" (legacy) or by Auth, never by anyone else.
    await expect401(verify(await mintToken({ secret, role: 'service_role', issuer: 'https://evil.example.org' })), /issued by/);
    await expect401(verify(await mintToken({ secret, role: 'anon', issuer: 'supabase-demo' })), /issued by/);
  });

  it('refuses ES256 tokens when no signing keys are configured', async () => {
    const k = await newSigningKey('k1');
    await expect401(verify(await k.sign(userClaims('http://127.0.0.1:54321', USER))), /no signing keys are configured/);
  });
});

describe('signing keys and the legacy secret together', () => {
  let server: JwksServer;
  let k1: SigningKey;
  let k2: SigningKey;
  const secret = newJwtSecret();
  let clock = Date.now();

  beforeAll(async () => {
    [k1, k2] = await Promise.all([newSigningKey('k1'), newSigningKey('k2', 'RS256')]);
    server = await startJwksServer([k1.jwk]);
  });
  afterAll(async () => {
    await server?.close();
  });

  const both = () => verifierFor({ SUPABASE_URL: server.url, JWT_SECRET: secret }, { now: () => clock });

  it('accepts an ES256 token from the JWKS and an HS256 token from the secret, each with its own key', async () => {
    const verify = both();
    expect(await verify(await k1.sign(userClaims(server.url, USER)))).toMatchObject({ role: 'authenticated', sub: USER });
    expect(await verify(await mintToken({ secret, role: 'authenticated', sub: USER, issuer: `${server.url}/auth/v1` })))
      .toMatchObject({ sub: USER });
    expect(await verify(await mintToken({ secret, role: 'service_role' }))).toMatchObject({ role: 'service_role' });
    // HS256 "signed" with the public key is not checked against the JWKS (algorithm confusion).
    const pem = new TextEncoder().encode(await exportSPKI(k1.publicKey));
    await expect401(verify(await new SignJWT({ role: 'service_role', iss: 'supabase' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setExpirationTime(now() + 600).sign(pem)), /signature does not match/);
    // An ES256 token whose signature is not k1's.
    const impostor = await newSigningKey('k1');
    await expect401(verify(await impostor.sign(userClaims(server.url, USER))), /signature does not match/);
    // Wrong aud or iss on a token from the signing keys.
    await expect401(verify(await k1.sign({ ...userClaims(server.url, USER), aud: 'anon' })), /aud/);
    await expect401(verify(await k1.sign({ ...userClaims('https://other.supabase.co', USER) })), /issued by/);
  });

  it('accepts a rotated key after one refetch, and refetches at most once per cooldown', async () => {
    server.setKeys([k1.jwk]);
    const verify = both();
    const before = server.requests();
    await verify(await k1.sign(userClaims(server.url, USER)));
    expect(server.requests()).toBe(before + 1);

    // The project rotates to k2. Within the cooldown of the last fetch an unknown kid is refused
    // without asking Auth again, however many such tokens arrive.
    server.setKeys([k1.jwk, k2.jwk]);
    const t2 = await k2.sign(userClaims(server.url, USER));
    for (let i = 0; i < 3; i++) await expect401(verify(t2), /key this project does not know \(kid "k2"\)/);
    expect(server.requests()).toBe(before + 1);

    // Once the cooldown has passed, the unknown kid triggers one refetch and the token is good.
    clock += 30_000;
    expect(await verify(t2)).toMatchObject({ sub: USER });
    expect(server.requests()).toBe(before + 2);
    // Both keys are known now: no further fetch.
    await verify(await k1.sign(userClaims(server.url, USER)));
    await verify(t2);
    expect(server.requests()).toBe(before + 2);
  });

  it('answers 503, not 401, when the key endpoint fails or hangs; HS256 tokens still work', async () => {
    server.setKeys([k1.jwk]);
    const token = await k1.sign(userClaims(server.url, USER));
    for (const mode of ['fail', 'hang'] as const) {
      server.setMode(mode);
      const verify = createVerifier(
        readEnv((n) => ({ SUPABASE_URL: server.url, JWT_SECRET: secret, JWKS_FETCH_TIMEOUT_MS: '300' } as Record<string, string>)[n]),
        { now: () => clock },
      );
      const err = await refusal(verify(token));
      expect(err.status).toBe(503);
      expect(err.code).toBe('auth_unavailable');
      expect(err.message).not.toMatch(/500|abort|auth is down/i);
      // Still down within the cooldown: 503 again, without another fetch.
      const requests = server.requests();
      expect((await refusal(verify(token))).status).toBe(503);
      expect(server.requests()).toBe(requests);
      expect(await verify(await mintToken({ secret, role: 'service_role' }))).toMatchObject({ role: 'service_role' });
    }
    server.setMode('serve');
  });

  it('accepts keys given inline (SUPABASE_JWKS) without fetching', async () => {
    const requests = server.requests();
    const verify = verifierFor({ SUPABASE_URL: server.url, SUPABASE_JWKS: JSON.stringify({ keys: [k2.jwk] }) });
    expect(await verify(await k2.sign(userClaims(server.url, USER)))).toMatchObject({ sub: USER });
    await expect401(verify(await k1.sign(userClaims(server.url, USER))), /does not know/);
    expect(server.requests()).toBe(requests);
  });
});

describe('over HTTP', () => {
  it('the functions refuse a forged token with a JSON 401 that says what to do', async () => {
    const forged = await mintToken({ secret: newJwtSecret(), role: 'service_role' });
    const res = await call('health', { token: forged });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'unauthorized' });
    expect(res.body.error.message).toMatch(/signature does not match this project's keys; mint a new one/);
  });

  it('an expired token gets the time it expired and the command to mint a new one', async () => {
    const token = await mintToken({ secret: inject('stack').jwtSecret, role: 'authenticated', sub: USER, ttlSeconds: -60 });
    const res = await call('health', { token });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(
      /^token expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z; mint a new one \(locally: npm run -s token -- --user <uuid>\)$/,
    );
  });
});
