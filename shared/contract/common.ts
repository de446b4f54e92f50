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

export const Geometry = z.array(GeometryAtom).min(1).max(MAX_ATOMS, `at most ${MAX_ATOMS} atoms`);
export type Geometry = z.output<typeof Geometry>;

/** ALPB/GBSA solvent name, or null for the gas phase. */
export const Solvent = z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9_,\-]{0,63}$/, 'not a solvent name').nullable();

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
