// A stand-in for Supabase Auth's key endpoint (`/auth/v1/.well-known/jwks.json`) on a free local
// port, whose keys a test can rotate, or make fail or hang; and asymmetric signing keys that mint
// tokens the way Auth does with signing keys (ES256 or RS256, with a `kid`).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export const JWKS_PATH = '/auth/v1/.well-known/jwks.json';

export interface JwksServer {
  /** The project URL this server stands for: `${url}${JWKS_PATH}` serves the keys. */
  url: string;
  jwksUrl: string;
  /** How many key requests arrived. */
  requests(): number;
  setKeys(keys: JWK[]): void;
  /** 'serve' the keys, answer 500 ('fail'), or never answer ('hang'). */
  setMode(mode: 'serve' | 'fail' | 'hang'): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[] = []): Promise<JwksServer> {
  let current = keys;
  let mode: 'serve' | 'fail' | 'hang' = 'serve';
  let count = 0;
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.url !== JWKS_PATH) {
      res.writeHead(404).end();
      return;
    }
    count++;
    if (mode === 'hang') {
      hanging.add(res);
      return;
    }
    if (mode === 'fail') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('auth is down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: current }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUrl: `${url}${JWKS_PATH}`,
    requests: () => count,
    setKeys: (k) => {
      current = k;
    },
    setMode: (m) => {
      mode = m;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface SigningKey {
  kid: string;
  /** The public half, as a JWKS lists it, and as a key. */
  jwk: JWK;
  publicKey: CryptoKey;
  /** Signs `claims` with this key; `exp` one hour from now unless the claims set one. */
  sign(claims: Record<string, unknown>): Promise<string>;
}

export async function newSigningKey(kid: string, alg: 'ES256' | 'RS256' = 'ES256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    kid,
    jwk,
    publicKey,
    sign: (claims) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iat: now, exp: now + 3600, ...claims })
        .setProtectedHeader({ alg, kid, typ: 'JWT' })
        .sign(privateKey);
    },
  };
}

/** The claims of a user's access token as Supabase Auth issues them for the project at `url`. */
export function userClaims(url: string, sub: string): Record<string, unknown> {
  return { iss: `${url}/auth/v1`, aud: 'authenticated', role: 'authenticated', sub, aal: 'aal1', is_anonymous: false };
}
