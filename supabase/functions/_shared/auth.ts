// Token to claims: verifies the Bearer JWT with jose, HS256 locally or the project's JWKS when hosted,
// and exposes the verified claims to handlers as `c.get('claims')`.
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { keyFingerprint } from './actor.ts';
import { unauthorized, forbidden } from './errors.ts';
import type { FunctionEnv } from './env.ts';

export const ROLES = ['anon', 'authenticated', 'service_role'] as const;
export type Role = (typeof ROLES)[number];

const ClaimsSchema = z.object({
  role: z.enum(ROLES),
  sub: z.string().optional(),
}).passthrough();

export type Claims = z.infer<typeof ClaimsSchema> & { role: Role };

export interface AuthEnv {
  Variables: { claims: Claims };
}

const ASYMMETRIC_ALGS = ['ES256', 'RS256', 'EdDSA'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type TokenVerifier = (token: string) => Promise<Claims>;

/** Builds the verifier once per isolate: remote key sets are cached by jose between requests. */
export function createVerifier(env: Pick<FunctionEnv, 'jwtSecret' | 'jwks' | 'supabaseUrl'>): TokenVerifier {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (env.jwtSecret) {
    key = new TextEncoder().encode(env.jwtSecret);
    algorithms = ['HS256'];
  } else if (env.jwks) {
    key = createLocalJWKSet(JSON.parse(env.jwks));
    algorithms = ASYMMETRIC_ALGS;
  } else if (env.supabaseUrl) {
    key = createRemoteJWKSet(new URL('/auth/v1/.well-known/jwks.json', env.supabaseUrl));
    algorithms = ASYMMETRIC_ALGS;
  } else {
    throw new Error('no token key: set SUPABASE_JWT_SECRET, SUPABASE_JWKS or SUPABASE_URL');
  }

  return async (token) => {
    let payload: unknown;
    try {
      // An explicit algorithm list is what refuses `alg: none` and algorithm confusion.
      ({ payload } = await jwtVerify(token, key as Uint8Array, { algorithms, requiredClaims: ['exp'] }));
    } catch (err) {
      throw unauthorized(`invalid token: ${(err as Error).message}`);
    }
    const parsed = ClaimsSchema.safeParse(payload);
    if (!parsed.success) throw unauthorized('invalid token: the role claim must be anon, authenticated or service_role');
    const claims = parsed.data as Claims;
    if (claims.role === 'authenticated' && !UUID.test(claims.sub ?? '')) {
      throw unauthorized('invalid token: sub must be a user id (UUID)');
    }
    return claims;
  };
}

function bearer(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw unauthorized('missing Authorization: Bearer <token> header');
  return match[1];
}

/**
 * Requires a valid token. `roles` narrows who may call: a valid token of another role gets 401
 * when it is the anon key (it identifies nobody), 403 otherwise.
 */
export function requireAuth(verify: TokenVerifier, roles: readonly Role[] = ROLES): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const token = bearer(c.req.header('authorization'));
    const claims = await verify(token);
    if (!roles.includes(claims.role)) {
      if (claims.role === 'anon') throw unauthorized('this route needs a user token or the service-role key');
      throw forbidden(`the ${claims.role} role may not call this route`);
    }
    // Which key acted, for the audit trail (actor.ts); set here, never taken from the token.
    c.set('claims', { ...claims, key_fingerprint: await keyFingerprint(token) });
    await next();
  };
}
