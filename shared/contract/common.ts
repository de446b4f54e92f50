// Building blocks of the API contract shared by every function, script and test.
import { z } from 'zod';
import { atomicNumber } from '../chem/elements.ts';

export const METHODS = ['GFN2-xTB', 'GFN1-xTB', 'GFN0-xTB', 'GFN-FF'] as const;
export const TASKS = ['sp', 'grad', 'opt'] as const;

export const Method = z.enum(METHODS);
export const Task = z.enum(TASKS);
export type Method = z.output<typeof Method>;
export type Task = z.output<typeof Task>;

export const MAX_SMILES_LENGTH = 2000;
export const MAX_ATOMS = 10_000;
/**
 * Most heavy atoms (all but hydrogen) in one molecule. RDKit's WASM build overflows its stack
 * writing the SMILES of a chain of about 620 atoms (and then corrupts its memory), so identity
 * stops well below that; see docs/molecule-identity.md.
 */
export const MAX_HEAVY_ATOMS = 500;

/** An integer that fits a Postgres `integer` column. */
export const Int32 = z.number().int().min(-(2 ** 31), 'must fit a 32-bit integer').max(2 ** 31 - 1, 'must fit a 32-bit integer');

/** A finite number: zod 4 already refuses NaN and ±Infinity for z.number(). */
export const Finite = z.number();
export const Vec3 = z.tuple([Finite, Finite, Finite]);
export type Vec3 = z.output<typeof Vec3>;

export const Uuid = z.uuid();

/** Element symbols as written by xtb and ASE: one capital and an optional lower-case letter. */
export const ElementSymbol = z.string().refine((s) => atomicNumber(s) !== undefined, 'must be an element symbol such as C or Cl');

export const GeometryAtom = z.object({
  element: ElementSymbol,
  /** Cartesian position in Ångström. */
  xyz: Vec3,
});
export type GeometryAtom = z.output<typeof GeometryAtom>;

/**
 * A big array checked by a plain loop, with zod's per-element check run only to describe a
 * failure (same issues, same paths). zod costs about 5 µs per atom object: 0.9 s of a request's
 * CPU for 1,000 calculations of 182 atoms with gradients, against 2 s per request on the platform.
 * `quick` must accept exactly what `full` accepts unchanged (nothing to strip, default or trim).
 */
function checkedByLoop<T extends z.ZodType>(full: T, quick: (v: unknown) => boolean): T {
  return z.any().superRefine((v, ctx) => {
    if (quick(v)) return;
    const r = full.safeParse(v);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
  }) as unknown as T;
}

const isFinite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isVec3 = (v: unknown) => Array.isArray(v) && v.length === 3 && isFinite(v[0]) && isFinite(v[1]) && isFinite(v[2]);
const isPlainAtom = (a: unknown) => {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return false;
  const { element, xyz } = a as { element?: unknown; xyz?: unknown };
  return Object.keys(a).length === 2 && typeof element === 'string' && atomicNumber(element) !== undefined && isVec3(xyz);
};

export const Geometry = checkedByLoop(
  z.array(GeometryAtom).min(1).max(MAX_ATOMS, `at most ${MAX_ATOMS} atoms`),
  (v) => Array.isArray(v) && v.length >= 1 && v.length <= MAX_ATOMS && v.every(isPlainAtom),
);
export type Geometry = z.output<typeof Geometry>;

/** Per-atom vectors (a gradient), checked like Geometry. */
export const Vec3Array = checkedByLoop(z.array(Vec3), (v) => Array.isArray(v) && v.every(isVec3));
/** Per-atom numbers (charges), checked like Geometry. */
export const FiniteArray = checkedByLoop(z.array(Finite), (v) => Array.isArray(v) && v.every(isFinite));

/** ALPB/GBSA solvent name, or null for the gas phase. */
export const Solvent = z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9_,\-]{0,63}$/, 'not a solvent name').nullable();

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Where a value holds text Postgres cannot store: NUL (`\u0000`, refused by text and jsonb) or a
 * lone UTF-16 surrogate (refused by jsonb). Keys are checked as well as values. Returns the path
 * (relative to `value`) and the issue of the first such string, or undefined.
 */
export function unstorableText(value: unknown): { path: (string | number)[]; issue: string } | undefined {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
  const bad = (s: string) => (s.includes('\u0000') ? 'contains NUL (\\u0000), which Postgres cannot store'
    : LONE_SURROGATE.test(s) ? 'contains a lone UTF-16 surrogate, which Postgres cannot store' : undefined);
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const issue = bad(v);
      if (issue) return { path, issue };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) if (typeof v[i] === 'object' || typeof v[i] === 'string') stack.push({ v: v[i], path: [...path, i] });
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const issue = bad(k);
        if (issue) return { path: [...path, k], issue: `this key ${issue}` };
        if (typeof child === 'object' || typeof child === 'string') stack.push({ v: child, path: [...path, k] });
      }
    }
  }
  return undefined;
}

export const Tags = z.array(z.string().min(1).max(100)).max(100);
export const Metadata = z.record(z.string(), z.unknown());

/** The one error shape every function answers with. */
export const ErrorDetail = z.object({ path: z.string(), issue: z.string() });
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(ErrorDetail).optional(),
  }),
});
export type ErrorDetail = z.output<typeof ErrorDetail>;
export type ErrorBody = z.output<typeof ErrorBody>;

/**
 * A query's parameters as a client gives them: any of the values the server's schema parses the URL
 * into (numbers, booleans, lists), which the client writes back as text (shared/client.ts).
 */
export type QueryParams<S extends z.ZodType> = Partial<z.output<S>>;
