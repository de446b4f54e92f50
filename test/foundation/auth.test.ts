// Token verification (_shared/auth.ts), run in Node on the same module the functions use.
import { describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, exportSPKI } from 'jose';
import { createVerifier } from '../../supabase/functions/_shared/auth.ts';
import { ApiError } from '../../supabase/functions/_shared/errors.ts';
import { mintToken, newJwtSecret } from '../../scripts/stack/keys.ts';
import { call } from '../support/http.ts';

const USER = '3f1d7a52-6d0e-4c5b-9a43-0a8f1b2c3d4e';
const now = () => Math.floor(Date.now() / 1000);

async function expect401(promise: Promise<unknown>) {
  const err = await promise.then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).status).toBe(401);
}

describe('HS256 (local stack)', () => {
  const secret = newJwtSecret();
  const verify = createVerifier({ jwtSecret: secret });

  it('accepts a token signed with the secret', async () => {
    const claims = await verify(await mintToken({ secret, role: 'authenticated', sub: USER }));
    expect(claims).toMatchObject({ role: 'authenticated', sub: USER, aud: 'authenticated', aal: 'aal1', is_anonymous: false });
    expect(claims.session_id).toBeTypeOf('string');
  });

  it('rejects expired, not-yet-valid, wrong-key, alg none and garbage tokens', async () => {
    const key = new TextEncoder().encode(secret);
    await expect401(verify(await new SignJWT({ role: 'authenticated', sub: USER })
      .setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now() - 120).sign(key)));
    await expect401(verify(await new SignJWT({ role: 'authenticated', sub: USER })
      .setProtectedHeader({ alg: 'HS256' }).setNotBefore(now() + 600).setExpirationTime(now() + 900).sign(key)));
    await expect401(verify(await mintToken({ secret: newJwtSecret(), role: 'authenticated', sub: USER })));
    const none = [
      Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url'),
      Buffer.from(JSON.stringify({ role: 'service_role', exp: now() + 600 })).toString('base64url'),
      '',
    ].join('.');
    await expect401(verify(none));
    await expect401(verify('not-a-jwt'));
    await expect401(verify(''));
  });

  it('rejects a user token whose sub is not a UUID, and an unknown role', async () => {
    await expect401(verify(await mintToken({ secret, role: 'authenticated', sub: 'alice' })));
    const key = new TextEncoder().encode(secret);
    await expect401(verify(await new SignJWT({ role: 'postgres' }).setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now() + 600).sign(key)));
  });
});

describe('ES256 through a JWKS (hosted projects)', async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const verify = createVerifier({ jwks: JSON.stringify({ keys: [jwk] }) });
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime(now() + 600).sign(privateKey);

  it('accepts a token signed with the private key', async () => {
    expect(await verify(await sign({ role: 'authenticated', sub: USER }))).toMatchObject({ sub: USER });
  });

  it('rejects another key pair, and HS256 signed with the public key (algorithm confusion)', async () => {
    const other = await generateKeyPair('ES256');
    await expect401(verify(await new SignJWT({ role: 'authenticated', sub: USER })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime(now() + 600).sign(other.privateKey)));
    const pem = new TextEncoder().encode(await exportSPKI(publicKey));
    await expect401(verify(await new SignJWT({ role: 'service_role' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setExpirationTime(now() + 600).sign(pem)));
    await expect401(verify(await new SignJWT({ role: 'authenticated', sub: USER })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setExpirationTime(now() + 600)
      .sign(new TextEncoder().encode(JSON.stringify(jwk)))));
  });
});

describe('over HTTP', () => {
  it('the functions refuse a forged token with a JSON 401', async () => {
    const forged = await mintToken({ secret: newJwtSecret(), role: 'service_role' });
    const res = await call('health', { token: forged });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'unauthorized' });
    expect(res.body.error.message).toMatch(/invalid token/);
  });
});
