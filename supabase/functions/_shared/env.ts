// The environment a function reads, gathered in one object so tests can inject their own.
export interface FunctionEnv {
  /** Postgres connection string (injected by the platform on hosted projects). */
  dbUrl?: string;
  /** HS256 secret: local stack and legacy projects. */
  jwtSecret?: string;
  /** A JSON Web Key Set, inline, for asymmetric signing keys. */
  jwks?: string;
  /** The project URL; its `/auth/v1/.well-known/jwks.json` is the fallback key source. */
  supabaseUrl?: string;
  poolMax: number;
  statementTimeoutMs: number;
  /** Largest request body ingest accepts (413 beyond). */
  ingestMaxBytes: number;
  /** Most calculations in one ingest request (413 beyond). */
  ingestMaxItems: number;
  /** RDKit CPU time (ms) one request may spend identifying new molecules (docs/molecule-identity.md). */
  rdkitBudgetMs: number;
  /** InChI's own (wall-clock) time limit per call (ms): a molecule that needs more is rejected as too slow. */
  inchiTimeoutMs: number;
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
  return {
    dbUrl: read('SUPABASE_DB_URL') ?? read('DATABASE_URL'),
    jwtSecret: read('SUPABASE_JWT_SECRET') ?? read('JWT_SECRET'),
    jwks: read('SUPABASE_JWKS'),
    supabaseUrl: read('SUPABASE_URL'),
    poolMax: positiveInt('DB_POOL_MAX', 5),
    statementTimeoutMs: positiveInt('DB_STATEMENT_TIMEOUT_MS', 20_000),
    ingestMaxBytes: positiveInt('INGEST_MAX_BYTES', 25 * 1024 * 1024),
    ingestMaxItems: positiveInt('INGEST_MAX_ITEMS', 1000),
    rdkitBudgetMs: positiveInt('RDKIT_BUDGET_MS', 700),
    inchiTimeoutMs: positiveInt('INCHI_TIMEOUT_MS', 300),
  };
}
