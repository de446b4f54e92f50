// Molecule identification for a request, cheapest source first: the isolate's LRU, then the
// identities stored by any earlier request of any user (private.molecule_identities), then RDKit
// within the request's time budget. What RDKit finds is stored for every later request, so each
// SMILES is identified once, ever. RDKit is loaded once per isolate on first use (~250 ms).
//
// RDKit is synchronous WASM: while it runs, the isolate answers nothing else. So each
// identification is bounded (a heavy-atom cap before RDKit, InChI's own time limit inside it),
// the loop yields to the event loop between molecules, and the request stops starting new
// identifications once its budget is spent: those SMILES come back `deferred`, for the client to
// send again (ingest), or the whole request answers 503 identification_budget (routes that are
// all or nothing), after the identities found so far were stored, so every retry progresses.
import { identityVersion, MoleculeCache, type Identification, type MoleculeIdentity } from '../../../shared/chem/molecule.ts';
import process from 'node:process';
import { loadRDKit } from '../../../shared/chem/rdkit.ts';
import type { Sql } from './db.ts';
import type { FunctionEnv } from './env.ts';
import { ApiError, ErrorCode, isDatabaseUnavailable } from './errors.ts';

let cache: Promise<MoleculeCache> | undefined;

export const moleculeCache = (): Promise<MoleculeCache> =>
  (cache ??= loadRDKit().then((rdkit) => new MoleculeCache(rdkit)));

/** An identification, or `deferred`: not attempted because the request's budget was spent. */
export type Answer = Identification | { kind: 'deferred'; issue: string };

/** identifyAll bound to a request's pool and budget: what handlers get as `c.var.identify` (caller.ts). */
export type Identify = (smiles: Iterable<string>) => Promise<Map<string, Answer>>;

export interface IdentifyBudget {
  /** RDKit CPU time (ms) a request may spend identifying new molecules; at least one is always tried. */
  budgetMs: number;
  /** InChI's limit per call (ms): a molecule that needs more is `too_slow`. */
  inchiTimeoutMs: number;
  /**
   * No new identification starts once the request has used this much CPU since `startedCpuMs`
   * (reading and checking the body included, and whatever the runtime does meanwhile, such as
   * optimising RDKit's code in a new isolate), so that storing still fits the platform's limit.
   */
  requestCpuMs: number;
  startedCpuMs: number;
}

/** The budget the environment sets (RDKIT_BUDGET_MS, INCHI_TIMEOUT_MS, REQUEST_CPU_BUDGET_MS), from the request's start. */
export const identifyBudget = (
  env: Pick<FunctionEnv, 'rdkitBudgetMs' | 'inchiTimeoutMs' | 'requestCpuBudgetMs'>,
  startedCpuMs: number,
): IdentifyBudget => ({
  budgetMs: env.rdkitBudgetMs, inchiTimeoutMs: env.inchiTimeoutMs, requestCpuMs: env.requestCpuBudgetMs, startedCpuMs,
});

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * CPU milliseconds of this process, which is what the platform's limit counts; wall time where the
 * runtime cannot tell. Read around a synchronous RDKit call, it is that call's cost.
 */
export function cpuNowMs(): number {
  try {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  } catch {
    return performance.now();
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

interface StoredIdentity {
  input_smiles: string;
  canonical_smiles: string;
  inchikey: string;
  molecule_key: string;
  formula: string;
  n_atoms: number;
  elements: Record<string, number>;
}

const fromStored = (r: StoredIdentity): Identification => ({
  kind: 'identified',
  identity: {
    canonical_smiles: r.canonical_smiles, inchikey: r.inchikey, molecule_key: r.molecule_key, formula: r.formula,
    n_atoms: r.n_atoms, elements: new Map(Object.entries(r.elements)),
  },
});

/** The identities stored by earlier requests, for the SMILES given (by hash, checked by text). */
async function readStored(sql: Sql, version: string, smiles: string[], hashes: string[]): Promise<Map<string, Identification>> {
  const rows = await sql<StoredIdentity[]>`
    select input_smiles, canonical_smiles, inchikey, molecule_key, formula, n_atoms, elements
      from private.molecule_identities
     where identity_version = ${version}
       and input_sha256 = any (select decode(h, 'hex') from unnest(${hashes}::text[]) as h)`;
  const wanted = new Set(smiles);
  return new Map(rows.filter((r) => wanted.has(r.input_smiles)).map((r) => [r.input_smiles, fromStored(r)]));
}

async function store(sql: Sql, version: string, found: { smiles: string; hash: string; identity: MoleculeIdentity }[]): Promise<void> {
  if (found.length === 0) return;
  const rows = found.map(({ smiles, hash, identity: m }) => ({
    input_sha256: hash, input_smiles: smiles, canonical_smiles: m.canonical_smiles, inchikey: m.inchikey,
    molecule_key: m.molecule_key, formula: m.formula, n_atoms: m.n_atoms, elements: Object.fromEntries(m.elements),
  }));
  try {
    await sql`
      insert into private.molecule_identities
        (identity_version, input_sha256, input_smiles, canonical_smiles, inchikey, molecule_key, formula, n_atoms, elements)
      select ${version}, decode(r.input_sha256, 'hex'), r.input_smiles, r.canonical_smiles, r.inchikey, r.molecule_key,
             r.formula, r.n_atoms, r.elements
        from jsonb_to_recordset(${sql.json(rows as never)}::jsonb) as r(
               input_sha256 text, input_smiles text, canonical_smiles text, inchikey text, molecule_key text,
               formula text, n_atoms int, elements jsonb)
      on conflict do nothing`;
  } catch (err) {
    // The store is a cache: losing an entry costs one more identification later, not this request.
    if (isDatabaseUnavailable(err)) throw err;
    console.error('could not store molecule identities', err);
  }
}

/**
 * Identifies each distinct SMILES: remembered answers first, then RDKit in the order given while
 * the budget lasts. Never throws for a SMILES; throws only when the database cannot be reached.
 */
export async function identifyAll(sql: Sql, smiles: Iterable<string>, budget: IdentifyBudget): Promise<Map<string, Answer>> {
  const molecules = await moleculeCache();
  const version = identityVersion(molecules.rdkit);
  const answers = new Map<string, Answer>();
  const missing: string[] = [];
  for (const s of new Set(smiles)) {
    const hit = molecules.peek(s);
    if (hit) answers.set(s, hit);
    else missing.push(s);
  }
  if (missing.length === 0) return answers;

  const hashes = await Promise.all(missing.map(sha256Hex));
  const stored = await readStored(sql, version, missing, hashes);
  const found: { smiles: string; hash: string; identity: MoleculeIdentity }[] = [];
  let spentMs = 0;
  let tried = 0;
  for (const [i, s] of missing.entries()) {
    const known = stored.get(s);
    if (known) {
      molecules.remember(s, known);
      answers.set(s, known);
      continue;
    }
    if (tried > 0 && (spentMs >= budget.budgetMs || cpuNowMs() - budget.startedCpuMs >= budget.requestCpuMs)) {
      answers.set(s, {
        kind: 'deferred',
        issue: spentMs >= budget.budgetMs
          ? `not identified: this request spent its RDKit budget (${budget.budgetMs} ms) on other molecules; send it again`
          : `not identified: this request used its CPU budget (${budget.requestCpuMs} ms) before this molecule; send it again`,
      });
      continue;
    }
    // Let health checks and other requests in between two molecules.
    if (tried > 0) await yieldToEventLoop();
    const started = cpuNowMs();
    const answer = molecules.identifyWith(s, { inchiTimeoutMs: budget.inchiTimeoutMs });
    spentMs += cpuNowMs() - started;
    tried++;
    answers.set(s, answer);
    if (answer.kind === 'identified') found.push({ smiles: s, hash: hashes[i], identity: answer.identity });
  }
  await store(sql, version, found);
  return answers;
}

/** For routes that are all or nothing: a 503 to send again when any molecule was deferred. */
export function requireAllIdentified(answers: Map<string, Answer>): void {
  let deferred = 0;
  for (const a of answers.values()) if (a.kind === 'deferred') deferred++;
  if (deferred === 0) return;
  const done = answers.size - deferred;
  throw new ApiError(503, ErrorCode.identificationBudget,
    `${done} of ${answers.size} molecules were identified within this request's RDKit budget and are remembered; ` +
    `send the same request again to identify the other ${deferred} (nothing was written)`);
}
