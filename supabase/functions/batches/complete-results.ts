// The core of POST /complete and /complete-many: runners' results stored exactly as ingest stores
// them (prepareItems, then storeItems → public.ingest_calculations), linked with their items, and
// the items marked completed (public.complete_batch_items), in the caller's one transaction.
//
// Per item: only the runner that holds it may complete it (SQL's rule, public.batch_item_held:
// an expired lease nobody took yet still counts, as does an item its batch's cancellation caught
// mid-run); the result must be a completed
// run of that item (same molecule, method, task, solvent, charge, multiplicity) with the batch's
// specification: its xtb_args must give what the batch's xtb_args give (public.xtb_specification,
// so `--acc 1.0` and no --acc agree, and a result run without the batch's `--etemp 5000` does
// not). An item that fails these checks gets its own outcome and nothing is written for it.
//
// "Holds" is decided in SQL only: public.lock_items_for_completion locks the items and answers
// each one's outcome (completable, already_completed, not_held, not_found) with the columns that
// mismatches() compares; this file maps that outcome, checks the results against the items, stores
// the completable ones and has public.complete_batch_items mark them.
import type { CompleteManyResponse, ItemStatus } from '../../../shared/contract/batches.ts';
import type { ErrorDetail } from '../../../shared/contract/common.ts';
import type { Claims } from '../_shared/auth.ts';
import type { Owner } from '../_shared/caller.ts';
import { callerSession, switchCaller, type Tx } from '../_shared/db.ts';
import { ApiError, ErrorCode } from '../_shared/errors.ts';
import type { Identify } from '../_shared/molecules.ts';
import { isDeferred, isRejected, prepareItems, type PreparedItem } from '../_shared/prepare-calculation.ts';
import { storeItems } from '../_shared/store-calculations.ts';

export type EntryOutcome = CompleteManyResponse['results'][number];

export interface ResultEntry {
  itemId: string;
  /** Where the result sits in the request, for error paths: `result` or `items[3].result`. */
  at: string;
  prepared: PreparedItem | { errors: ErrorDetail[] };
}

type Specification = Record<string, unknown>;

/** A row of public.lock_items_for_completion: the item's outcome, and (when found) what a result must match. */
interface LockedItem {
  item_id: string; outcome: 'completable' | 'already_completed' | 'not_held' | 'not_found';
  status: ItemStatus; calculation_id: string | null; molecule_id: string; inchikey: string; molecule_key: string | null;
  method: string; task: string; solvent: string | null; charge: number; multiplicity: number; xtb_args: string[];
  /** The specification the batch asks for. */
  spec: Specification;
}

/**
 * Validates each raw result as ingest would (outside the transaction: RDKit, zod, hashing). When
 * the RDKit budget ran out first, answers 503 identification_budget: nothing is written, and the
 * molecules identified so far are remembered, so the runner's retry goes further.
 */
export async function prepareResults(
  identify: Identify,
  raw: { item_id: string; result: unknown; at: string }[],
): Promise<ResultEntry[]> {
  const prepared = await prepareItems(identify, raw.map((r) => r.result));
  const deferred = prepared.filter(isDeferred).length;
  if (deferred > 0) {
    throw new ApiError(503, ErrorCode.identificationBudget,
      `${deferred} results' molecules were not identified within this request's RDKit budget; send the same request again (nothing was written)`);
  }
  return raw.map((r, i) => {
    const p = prepared[i];
    return {
      itemId: r.item_id.toLowerCase(),
      at: r.at,
      prepared: isRejected(p)
        ? { errors: p.errors.map((e) => ({ ...e, path: e.path.replace(/^calculations\[\d+\]/, r.at) })) }
        : p as PreparedItem,
    };
  });
}

/** The keys of two specifications whose values differ. */
function specDifferences(a: Specification, b: Specification): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((k) => JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null));
}

/** Differences between a result (with the specification its xtb_args give) and the item it claims to complete. */
function mismatches(p: PreparedItem, resultSpec: Specification, item: LockedItem, at: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const want = (path: string, got: unknown, expected: unknown) => {
    if (got !== expected) out.push({ path: `${at}.${path}`, issue: `is ${JSON.stringify(got)}; the item's is ${JSON.stringify(expected)}` });
  };
  if (p.calc.status !== 'completed') {
    out.push({ path: `${at}.status`, issue: 'must be completed; report a failed run with POST /batches/fail' });
  }
  // A molecule written before molecule keys (key still null) is compared by its standard InChIKey.
  if (item.molecule_key ? p.molecule.molecule_key !== item.molecule_key : p.molecule.inchikey !== item.inchikey) {
    out.push({ path: `${at}.molecule.smiles`, issue: `is ${p.molecule.canonical_smiles}, not the item's molecule` });
  }
  want('method', p.calc.method, item.method);
  want('task', p.calc.task, item.task);
  want('solvent', p.calc.solvent, item.solvent);
  want('charge', p.calc.charge, item.charge);
  want('multiplicity', p.calc.multiplicity, item.multiplicity);
  if (p.calc.batch_item_id && p.calc.batch_item_id.toLowerCase() !== item.item_id) {
    out.push({ path: `${at}.batch_item_id`, issue: 'is another item; leave it out or send this item\'s id' });
  }
  if (out.length === 0) {
    const differ = specDifferences(resultSpec, item.spec);
    if (differ.length) {
      const show = (spec: Specification) => differ.map((k) => `${k} ${JSON.stringify(spec[k] ?? null)}`).join(', ');
      out.push({
        path: `${at}.xtb_args`,
        issue: `give ${show(resultSpec)}; the batch's specification has ${show(item.spec)} ` +
          `(its xtb_args: ${item.xtb_args.length ? item.xtb_args.join(' ') : 'none'})`,
      });
    }
  }
  return out;
}

/** The specification each prepared result's xtb_args give (by entry), in one statement. */
async function resultSpecifications(tx: Tx, entries: ResultEntry[]): Promise<Map<ResultEntry, Specification>> {
  const prepared = entries.filter((e): e is ResultEntry & { prepared: PreparedItem } => !('errors' in e.prepared));
  if (prepared.length === 0) return new Map();
  const rows = await tx<{ ord: number; spec: Specification }[]>`
    select x.ord, public.xtb_specification(x.method, x.task, x.solvent, x.xtb_args) as spec
      from jsonb_to_recordset(${tx.json(prepared.map((e, ord) => ({
        ord, method: e.prepared.calc.method, task: e.prepared.calc.task, solvent: e.prepared.calc.solvent,
        xtb_args: e.prepared.calc.xtb_args ?? [],
      })) as never)}) as x(ord int, method text, task text, solvent text, xtb_args text[])`;
  return new Map(rows.map((r) => [prepared[r.ord], r.spec]));
}

const outcome = (itemId: string, o: Partial<EntryOutcome> & Pick<EntryOutcome, 'outcome'>): EntryOutcome => ({
  item_id: itemId, status: null, calculation_id: null, molecule_id: null, stored: null, ...o,
});

/** One user's entries: lock, check, store, link and complete. */
async function completeForOneUser(tx: Tx, runnerId: string, entries: ResultEntry[]): Promise<Map<string, EntryOutcome>> {
  const out = new Map<string, EntryOutcome>();
  const locked = new Map((await tx<LockedItem[]>`
    select * from public.lock_items_for_completion(${runnerId}, ${entries.map((e) => e.itemId)}::uuid[])`)
    .map((r) => [r.item_id, r]));
  const resultSpecs = await resultSpecifications(tx, entries);

  const writable: { entry: ResultEntry; prepared: PreparedItem }[] = [];
  for (const entry of entries) {
    const item = locked.get(entry.itemId);
    if (!item || item.outcome === 'not_found') {
      out.set(entry.itemId, outcome(entry.itemId, { outcome: 'not_found' }));
      continue;
    }
    if (item.outcome === 'already_completed') {
      out.set(entry.itemId, outcome(entry.itemId, {
        outcome: 'already_completed', status: 'completed', calculation_id: item.calculation_id, molecule_id: item.molecule_id,
      }));
      continue;
    }
    if (item.outcome === 'not_held') {
      out.set(entry.itemId, outcome(entry.itemId, {
        outcome: 'not_held', status: item.status,
        errors: [{ path: 'item_id', issue: item.status === 'claimed' ? 'held by another runner' : `item is ${item.status}` }],
      }));
      continue;
    }
    if ('errors' in entry.prepared) {
      out.set(entry.itemId, outcome(entry.itemId, { outcome: 'invalid', status: item.status, errors: entry.prepared.errors }));
      continue;
    }
    const wrong = mismatches(entry.prepared, resultSpecs.get(entry)!, item, entry.at);
    if (wrong.length) {
      out.set(entry.itemId, outcome(entry.itemId, { outcome: 'invalid', status: item.status, errors: wrong }));
      continue;
    }
    entry.prepared.calc.batch_item_id = item.item_id;
    entry.prepared.calc.source ??= `runner:${runnerId}`;
    writable.push({ entry, prepared: entry.prepared });
  }
  if (writable.length === 0) return out;

  const stored = new Map((await storeItems(tx, writable.map((w) => w.prepared))).map((r) => [r.idx, r]));
  const rows = writable.map((w) => ({ w, s: stored.get(w.prepared.index)! }));
  await tx`
    select item_id from public.complete_batch_items(
      ${runnerId}, ${rows.map((r) => r.w.entry.itemId)}::uuid[], ${rows.map((r) => r.s.calculation_id)}::uuid[])`;
  for (const { w, s } of rows) {
    out.set(w.entry.itemId, outcome(w.entry.itemId, {
      outcome: 'completed', status: 'completed', calculation_id: s.calculation_id, molecule_id: s.molecule_id, stored: s.outcome,
    }));
  }
  return out;
}

/**
 * Completes the entries in the caller's transaction and returns one outcome per entry, in order.
 * With all_users (service_role), items are found across users and each user's are stored as that
 * user, under row-level security, one user after another in the same transaction.
 */
export async function completeResults(
  tx: Tx, claims: Claims, scope: Owner, runnerId: string, entries: ResultEntry[],
): Promise<EntryOutcome[]> {
  const outcomes = new Map<string, EntryOutcome>();
  if (!scope.allUsers) {
    for (const [id, o] of await completeForOneUser(tx, runnerId, entries)) outcomes.set(id, o);
  } else {
    const owners = new Map((await tx<{ id: string; user_id: string }[]>`
      select id, user_id from public.batch_items where id = any (${entries.map((e) => e.itemId)}::uuid[])`).map((r) => [r.id, r.user_id]));
    const byUser = new Map<string, ResultEntry[]>();
    for (const e of entries) {
      const owner = owners.get(e.itemId);
      if (!owner) outcomes.set(e.itemId, outcome(e.itemId, { outcome: 'not_found' }));
      else byUser.set(owner, [...(byUser.get(owner) ?? []), e]);
    }
    for (const [user, group] of [...byUser].sort(([a], [b]) => a.localeCompare(b))) {
      // From here on, the statements run as that user under RLS, as withCaller's actAs would.
      await switchCaller(tx, callerSession(claims, user));
      for (const [id, o] of await completeForOneUser(tx, runnerId, group)) outcomes.set(id, o);
    }
  }
  return entries.map((e) => outcomes.get(e.itemId)!);
}
