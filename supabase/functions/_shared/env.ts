// The environment a function reads, gathered in one object so tests can inject their own.
// Names starting with SUPABASE_ are reserved for secrets on hosted projects, so every setting an
// operator may add has a plain name (JWT_SECRET, JWKS_URL, AUTH_ISSUER); the SUPABASE_ spellings
// are read too, for the platform's own variables and the local stack. The ingest limits default
// to the contract's, which clients read too.
import {
  INGEST_DEFAULT_MAX_ATOMS, INGEST_DEFAULT_MAX_BYTES, INGEST_DEFAULT_MAX_ITEMS,
} from '../../../shared/contract/ingest.ts';
import { MAX_EXPORT_LIMIT } from '../../../shared/contract/query.ts';

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
  /** How long a request waits for a free connection before 503 database_busy. */
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
  /** Exports one user may have open at once on an instance (429 quota_exceeded beyond). */
  exportsPerUser: number;
  /** Most calculations in one export response (EXPORT_PART_ROWS, at most MAX_EXPORT_LIMIT). */
  exportPartRows: number;
  /** Most release members one request hashes while sealing a release (RELEASE_PART_ROWS). */
  releasePartRows: number;
  /** Largest request body ingest accepts (413 beyond). */
  ingestMaxBytes: number;
  /** Most calculations in one ingest request (413 beyond). */
  ingestMaxItems: number;
  /** Atoms checked and stored per ingest request; the items beyond answer `deferred`. */
  ingestMaxAtoms: number;
  /** RDKit CPU time (ms) one request may spend identifying new molecules (docs/molecule-identity.md). */
  rdkitBudgetMs: number;
  /** InChI's own (wall-clock) time limit per call (ms): a molecule that needs more is rejected as too slow. */
  inchiTimeoutMs: number;
  /** CPU (ms) after which a request starts no new molecule identification (the platform allows 2,000). */
  requestCpuBudgetMs: number;
}

/**
 * Members hashed per request while a release is sealed (docs/releases.md, "Sealing in parts"):
 * reading a member's ndjson row and hashing it (sha256.ts) cost the function 52 µs of CPU per
 * member of ~20 atoms (bench:release, 10^5 members in parts of 10,000: 0.92 s for the first
 * request, which also writes the members, 0.5 s for the others), so parts of 5,000 stay near
 * 0.3–0.5 s, well inside a hosted request's 2 s.
 */
export const RELEASE_PART_ROWS = 5_000;

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
    acquireTimeoutMs: positiveInt('DB_ACQUIRE_TIMEOUT_MS', 1000),
    statementTimeoutMs: positiveInt('DB_STATEMENT_TIMEOUT_MS', 20_000),
    exportsPerUser: positiveInt('EXPORTS_PER_USER', 2),
    exportPartRows: Math.min(positiveInt('EXPORT_PART_ROWS', MAX_EXPORT_LIMIT), MAX_EXPORT_LIMIT),
    releasePartRows: positiveInt('RELEASE_PART_ROWS', RELEASE_PART_ROWS),
    ingestMaxBytes: positiveInt('INGEST_MAX_BYTES', INGEST_DEFAULT_MAX_BYTES),
    ingestMaxItems: positiveInt('INGEST_MAX_ITEMS', INGEST_DEFAULT_MAX_ITEMS),
    ingestMaxAtoms: positiveInt('INGEST_MAX_ATOMS', INGEST_DEFAULT_MAX_ATOMS),
    rdkitBudgetMs: positiveInt('RDKIT_BUDGET_MS', 500),
    inchiTimeoutMs: positiveInt('INCHI_TIMEOUT_MS', 300),
    requestCpuBudgetMs: positiveInt('REQUEST_CPU_BUDGET_MS', 1000),
  };
}
