// Request parsing: JSON bodies with size and content-type limits, and zod validation whose errors
// name the field (`calculations[3].geometry[0].xyz`).
import type { Context } from 'hono';
import type { z } from 'zod';
import type { ErrorDetail } from '../../../shared/contract/common.ts';
import { ApiError, ErrorCode } from './errors.ts';
import { readCapped } from './read-capped.ts';

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(body)';
}

export function zodDetails(error: z.ZodError, prefix: readonly PropertyKey[] = []): ErrorDetail[] {
  return error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), issue: issue.message }));
}

/** Validates `value`; on failure throws a 400 (query parameters) or 422 (bodies) naming each field. */
export function parseOr<S extends z.ZodType>(
  schema: S,
  value: unknown,
  kind: 'query' | 'body' = 'body',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = zodDetails(result.error);
  const message = `invalid ${kind === 'query' ? 'query parameter' : 'field'} ${details[0].path}: ${details[0].issue}`;
  throw kind === 'query'
    ? new ApiError(400, ErrorCode.invalidParameter, message, details)
    : new ApiError(422, ErrorCode.invalidPayload, message, details);
}

/** Reads a JSON body, refusing other content types (415), oversize bodies (413) and bad JSON (400). */
export async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, ErrorCode.unsupportedMediaType, 'send the body as application/json');
  }
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const body = c.req.raw.body;
  if (!body) throw new ApiError(400, ErrorCode.invalidJson, 'the request body is empty');
  // Count while reading: a chunked upload has no content-length to trust.
  const bytes = await readCapped(body, maxBytes);
  if (!bytes) throw tooLarge(maxBytes);
  const text = new TextDecoder().decode(bytes);
  if (!text.trim()) throw new ApiError(400, ErrorCode.invalidJson, 'the request body is empty');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, ErrorCode.invalidJson, `malformed JSON: ${(err as Error).message}`);
  }
}

const tooLarge = (maxBytes: number) =>
  new ApiError(413, ErrorCode.payloadTooLarge, `the body is larger than ${maxBytes} bytes`);
