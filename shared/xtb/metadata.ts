// metadata.json, the file that makes a directory a job: schema 2 (2025 on) and the legacy schema 1 (2024).
import { z } from 'zod';
import { Method, Task, type Method as MethodT, type Task as TaskT } from '../contract/common.ts';
import { fail, ok, parseJsonLenient, type Parsed } from './text.ts';

/** One shape for both schemas, in the vocabulary of the ingest contract. */
export interface JobMetadata {
  schema: 1 | 2;
  job_id: string;
  name: string | null;
  smiles: string;
  /** Hill formula as the app wrote it (schema 2 only). */
  formula: string | null;
  charge: number;
  multiplicity: number;
  method: MethodT;
  task: TaskT;
  solvent: string | null;
  /** ISO 8601 UTC; for schema 1 converted from `submitted`. */
  created_at: string | null;
  /** Schema 1's original `YYYY-MM-DD HH:MM:SS`. */
  submitted: string | null;
  tags: string[];
}

const SchemaV2 = z.looseObject({
  schema: z.literal(2),
  job_id: z.string().trim().min(1),
  name: z.string().nullish(),
  smiles: z.string(),
  formula: z.string().nullish(),
  charge: z.number().int(),
  multiplicity: z.number().int().min(1),
  method: Method,
  task: Task,
  solvent: z.string().trim().min(1).nullish(),
  created_at: z.iso.datetime({ offset: true }),
  tags: z.array(z.string()).nullish(),
});

const GFN: Record<number, MethodT> = { 0: 'GFN0-xTB', 1: 'GFN1-xTB', 2: 'GFN2-xTB' };
const RUNTYPE: Record<string, TaskT> = { scc: 'sp', grad: 'grad', opt: 'opt' };

const SchemaV1 = z.looseObject({
  name: z.string().nullish(),
  smiles: z.string(),
  params: z.looseObject({
    gfn: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    chrg: z.number().int(),
    uhf: z.number().int().min(0),
    alpb: z.string().trim().min(1).nullish(),
    runtype: z.enum(['scc', 'grad', 'opt']),
  }),
  submitted: z.string().regex(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$/, 'must be YYYY-MM-DD HH:MM:SS'),
});

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Reads metadata.json. `dirName` is the job directory's own name: schema 1 has no job id and
 * uses it instead.
 */
export function parseMetadata(text: string, dirName: string): Parsed<JobMetadata> {
  const json = parseJsonLenient(text);
  if (!json.ok) return fail(`metadata.json ${json.error}`);
  const raw = json.value.value;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail('metadata.json is not a JSON object');
  const schema = (raw as Record<string, unknown>).schema;
  if (schema === 2) {
    const r = SchemaV2.safeParse(raw);
    if (!r.success) return fail(`metadata.json (schema 2) is invalid: ${issues(r.error)}`);
    const m = r.data;
    return ok({
      schema: 2, job_id: m.job_id, name: m.name ?? null, smiles: m.smiles, formula: m.formula ?? null,
      charge: m.charge, multiplicity: m.multiplicity, method: m.method, task: m.task,
      solvent: m.solvent?.toLowerCase() ?? null, created_at: m.created_at, submitted: null, tags: m.tags ?? [],
    });
  }
  if (schema !== undefined) return fail(`metadata.json has unsupported schema ${JSON.stringify(schema)}`);
  const r = SchemaV1.safeParse(raw);
  if (!r.success) return fail(`metadata.json (legacy schema 1) is invalid: ${issues(r.error)}`);
  const m = r.data;
  return ok({
    schema: 1, job_id: dirName, name: m.name ?? null, smiles: m.smiles, formula: null,
    charge: m.params.chrg, multiplicity: m.params.uhf + 1, method: GFN[m.params.gfn], task: RUNTYPE[m.params.runtype],
    solvent: m.params.alpb?.toLowerCase() ?? null,
    created_at: `${m.submitted.replace(' ', 'T')}Z`, submitted: m.submitted, tags: [],
  });
}
