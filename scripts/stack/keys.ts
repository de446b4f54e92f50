// Tokens signed the way the stack verifies them (HS256 with the project's JWT secret), with the
// claims a Supabase access token carries. Used by `npm start`, `npm run token` and the tests.
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
    .setIssuer(opts.issuer ?? 'supabase-local')
    .setIssuedAt(now)
    .setExpirationTime(now + ttl);
  if (opts.sub) jwt.setSubject(opts.sub);
  return jwt.sign(new TextEncoder().encode(opts.secret));
}

export const newJwtSecret = (): string => randomBytes(32).toString('base64url');
