// Token to claims: verifies the Bearer JWT as Supabase issues it and exposes the verified claims to
// handlers as `c.get('claims')`.
//   - HS256 is checked only with the legacy secret, ES256/RS256/EdDSA only with the signing keys
//     (signing-keys.ts); both may be configured at once, as during a migration to signing keys.
//   - A user token (role authenticated) must have `aud: authenticated` and the project's Auth
//     issuer (`<SUPABASE_URL>/auth/v1`); the anon and service-role keys carry `iss: supabase`
//     (legacy keys) or that same issuer.
//   - Errors say what to do, never the library's words; a key source that cannot be read is a 503.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { Uuid } from '../../../shared/contract/common.ts';
import { keyFingerprint } from './actor.ts';
import { ApiError, ErrorCode, forbidden, unauthorized } from './errors.ts';
import type { FunctionEnv } from './env.ts';
import { createSigningKeys, KeySourceUnavailable } from './signing-keys.ts';

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
/** The issuer of the legacy anon and service-role keys. */
export const API_KEY_ISSUER = 'supabase';
export const USER_AUDIENCE = 'authenticated';

const MINT_HINT = 'mint a new one (locally: npm run -s token -- --user <uuid>)';
const MALFORMED = 'malformed token: expected a JWT, three base64url parts separated by dots';

export type TokenVerifier = (token: string) => Promise<Claims>;

export type VerifierEnv = Pick<FunctionEnv, 'jwtSecret' | 'jwks' | 'jwksUrl' | 'authIssuer' | 'jwksTimeoutMs' | 'jwksCooldownMs'>;

/** Builds the verifier once per isolate: fetched keys are cached between requests. */
export function createVerifier(
  env: VerifierEnv,
  opts: { fetch?: typeof fetch; now?: () => number } = {},
): TokenVerifier {
  if (!env.jwtSecret && !env.jwks && !env.jwksUrl) {
    throw new Error('no token key: set JWT_SECRET, SUPABASE_JWKS, JWKS_URL or SUPABASE_URL');
  }
  if (!env.authIssuer) throw new Error('no token issuer: set SUPABASE_URL or AUTH_ISSUER');
  const issuer = env.authIssuer;
  const secret = env.jwtSecret ? new TextEncoder().encode(env.jwtSecret) : undefined;
  const keys = env.jwks || env.jwksUrl
    ? createSigningKeys({
        inline: env.jwks ? JSON.parse(env.jwks) : undefined,
        url: env.jwksUrl,
        timeoutMs: env.jwksTimeoutMs,
        cooldownMs: env.jwksCooldownMs,
        fetch: opts.fetch,
        now: opts.now,
      })
    : undefined;

  return async (token) => {
    let alg: unknown;
    try {
      ({ alg } = decodeProtectedHeader(token));
    } catch {
      throw unauthorized(MALFORMED);
    }
    let payload: JWTPayload;
    try {
      // One algorithm list per key kind is what refuses `alg: none` and algorithm confusion.
      if (alg === 'HS256') {
        if (!secret) throw unauthorized('HS256 tokens are not accepted here: this project checks tokens with its signing keys (ES256/RS256)');
        ({ payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], requiredClaims: ['exp'] }));
      } else if (typeof alg === 'string' && ASYMMETRIC_ALGS.includes(alg)) {
        if (!keys) throw unauthorized(`${alg} tokens are not accepted here: no signing keys are configured (set SUPABASE_URL, JWKS_URL or SUPABASE_JWKS)`);
        ({ payload } = await jwtVerify(token, keys, { algorithms: ASYMMETRIC_ALGS, requiredClaims: ['exp'] }));
      } else {
        throw unauthorized(`token algorithm ${JSON.stringify(alg ?? null)} is not accepted; use HS256, ES256 or RS256`);
      }
    } catch (err) {
      throw tokenError(err, token);
    }
    return checkClaims(payload, issuer);
  };
}

/** The role decides which issuer and audience a verified token must carry. */
function checkClaims(payload: JWTPayload, issuer: string): Claims {
  const parsed = ClaimsSchema.safeParse(payload);
  if (!parsed.success) throw unauthorized('invalid token: the role claim must be anon, authenticated or service_role');
  const claims = parsed.data as Claims;
  if (claims.role === 'authenticated') {
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.includes(USER_AUDIENCE)) throw unauthorized(`invalid token: a user token must have aud "${USER_AUDIENCE}"`);
    if (payload.iss !== issuer) throw unauthorized(`invalid token: a user token must be issued by ${issuer}`);
    if (!Uuid.safeParse(claims.sub ?? '').success) throw unauthorized('invalid token: sub must be a user id (UUID)');
  } else if (payload.iss !== API_KEY_ISSUER && payload.iss !== issuer) {
    throw unauthorized(`invalid token: the ${claims.role} key must be issued by "${API_KEY_ISSUER}" or ${issuer}`);
  }
  return claims;
}

const isoTime = (seconds: unknown) =>
  typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : 'an unknown time';

/** A verification failure in words that say what to do. */
function tokenError(err: unknown, token: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof KeySourceUnavailable) {
    return new ApiError(503, ErrorCode.authUnavailable, 'the signing keys needed to check this token could not be fetched; retry shortly');
  }
  if (err instanceof errors.JWTExpired) return unauthorized(`token expired at ${isoTime(err.payload.exp)}; ${MINT_HINT}`);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return unauthorized(`token is not valid before ${isoTime(err.payload.nbf)}; check the clock where it was minted`);
    if (err.claim === 'exp') return unauthorized(`token has no valid expiry (exp); ${MINT_HINT}`);
    return unauthorized(`invalid token: the ${err.claim} claim is not valid`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized(`token signature does not match this project's keys; ${MINT_HINT}`);
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    let kid: unknown;
    try {
      ({ kid } = decodeProtectedHeader(token));
    } catch { /* decoded once already */ }
    return unauthorized(`token was signed with a key this project does not know (kid ${JSON.stringify(kid ?? null)}); ${MINT_HINT}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized('token algorithm is not accepted; use HS256, ES256 or RS256');
  return unauthorized(MALFORMED);
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
