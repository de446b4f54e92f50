// The environment a function reads, gathered in one object so tests can inject their own.
// Names starting with SUPABASE_ are reserved for secrets on hosted projects, so every setting an
// operator may add has a plain name (JWT_SECRET, JWKS_URL, AUTH_ISSUER); the SUPABASE_ spellings
// are read too, for the platform's own variables and the local stack. The ingest limits default
// to the contract's, which clients read too.
import { INGEST_DEFAULT_MAX_BYTES, INGEST_DEFAULT_MAX_ITEMS } from '../../../shared/contract/ingest.ts';

export interface FunctionEnv {
  /** Postgres connection string (injected by the platform on hosted projects). */
  dbUrl?: string;
  /**
   * A read replica's connection string. When set, routes mounted read-only (the query function)
   * run their transactions there; everything else stays on dbUrl (docs/scaling.md).
   */
  dbReadUrl?: string;
  /** Legacy HS256 secret: the local stack, and projects not yet on signing keys. */
  jwtSecret?: string;
  /** A JSON Web Key Set, inline, for asymmetric signing keys (pinned: never refetched). */
  jwks?: string;
  /** Where to fetch the asymmetric signing keys; by default `<SUPABASE_URL>/auth/v1/.well-known/jwks.json` when no inline set is given. */
  jwksUrl?: string;
  /** The project URL (injected by the platform). */
  supabaseUrl?: string;
  /** The `iss` of user tokens; by default `<SUPABASE_URL>/auth/v1`, as Supabase Auth issues them. */
  authIssuer?: string;
  /** How long one key fetch may take before the request answers 503. */
  jwksTimeoutMs: number;
  /** At most one refetch for an unknown `kid` per this many milliseconds. */
  jwksCooldownMs: number;
  poolMax: number;
  statementTimeoutMs: number;
  /** Largest request body ingest accepts (413 beyond). */
  ingestMaxBytes: number;
  /** Most calculations in one ingest request (413 beyond). */
  ingestMaxItems: number;
}

/** Builds the environment from a lookup (Deno.env.get in functions, an object in tests). */
export function readEnv(get: (name: string) => string | undefined): FunctionEnv {
  const read = (name: string): string | undefined => {
    const value = get(name);
    return value === undefined || value === '' ? undefined : value;
  };
  const positiveInt = (name: string, fallback: number): number => {
    const value = Number(read(name) ?? fallback);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  const supabaseUrl = read('SUPABASE_URL')?.replace(/\/+$/, '');
  const jwks = read('SUPABASE_JWKS') ?? read('JWKS');
  const derivedJwksUrl = supabaseUrl && !jwks ? `${supabaseUrl}/auth/v1/.well-known/jwks.json` : undefined;
  return {
    dbUrl: read('SUPABASE_DB_URL') ?? read('DATABASE_URL'),
    // DB_READ_URL is the spelling a hosted project can set as a secret (SUPABASE_ is reserved there).
    dbReadUrl: read('SUPABASE_DB_READ_URL') ?? read('DB_READ_URL'),
    jwtSecret: read('SUPABASE_JWT_SECRET') ?? read('JWT_SECRET'),
    jwks,
    jwksUrl: read('JWKS_URL') ?? read('SUPABASE_JWKS_URL') ?? derivedJwksUrl,
    supabaseUrl,
    authIssuer: read('AUTH_ISSUER') ?? read('SUPABASE_AUTH_ISSUER') ?? (supabaseUrl && `${supabaseUrl}/auth/v1`),
    jwksTimeoutMs: positiveInt('JWKS_FETCH_TIMEOUT_MS', 3000),
    jwksCooldownMs: positiveInt('JWKS_REFETCH_COOLDOWN_MS', 30_000),
    poolMax: positiveInt('DB_POOL_MAX', 5),
    statementTimeoutMs: positiveInt('DB_STATEMENT_TIMEOUT_MS', 20_000),
    ingestMaxBytes: positiveInt('INGEST_MAX_BYTES', INGEST_DEFAULT_MAX_BYTES),
    ingestMaxItems: positiveInt('INGEST_MAX_ITEMS', INGEST_DEFAULT_MAX_ITEMS),
  };
}
