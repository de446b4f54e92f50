// Tokens signed the way the stack verifies them (HS256 with the project's JWT secret), with the
// claims Supabase puts in them: a user token has `aud: authenticated` and the Auth issuer
// `<SUPABASE_URL>/auth/v1` (here that of `npm start`'s default port, as in the Supabase CLI); the
// anon and service-role keys are legacy API keys, issued by "supabase". The local functions are
// told this issuer (AUTH_ISSUER) by the stack. Used by `npm start`, `npm run token` and the tests.
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export type Role = 'anon' | 'authenticated' | 'service_role';

export interface MintOptions {
  secret: string;
  role: Role;
  /** The user id; required for `authenticated`. */
  sub?: string;
  ttlSeconds?: number;
  issuer?: string;
}

const TEN_YEARS = 10 * 365 * 24 * 3600;

/** The Auth issuer of the local stack's user tokens. */
export const LOCAL_AUTH_ISSUER = 'http://127.0.0.1:54321/auth/v1';
/** The issuer of legacy anon and service-role keys. */
export const API_KEY_ISSUER = 'supabase';

export async function mintToken(opts: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const ttl = opts.ttlSeconds ?? (opts.role === 'authenticated' ? 3600 : TEN_YEARS);
  const claims: Record<string, unknown> = { role: opts.role };
  if (opts.role === 'authenticated') {
    if (!opts.sub) throw new Error('a user token needs a user id (sub)');
    Object.assign(claims, {
      aud: 'authenticated',
      aal: 'aal1',
      session_id: randomUUID(),
      is_anonymous: false,
    });
  }
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(opts.issuer ?? (opts.role === 'authenticated' ? LOCAL_AUTH_ISSUER : API_KEY_ISSUER))
    .setIssuedAt(now)
    .setExpirationTime(now + ttl);
  if (opts.sub) jwt.setSubject(opts.sub);
  return jwt.sign(new TextEncoder().encode(opts.secret));
}

export const newJwtSecret = (): string => randomBytes(32).toString('base64url');
