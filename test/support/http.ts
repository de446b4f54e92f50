// Plain HTTP to the functions, for tests that check statuses and error shapes byte for byte.
import { inject } from 'vitest';

export interface CallOptions {
  method?: string;
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export async function call(path: string, opts: CallOptions = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const { url, anonKey } = inject('stack');
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? anonKey : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(`${url}/functions/v1/${path.replace(/^\//, '')}`, {
    method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: leave the text for the assertion to show
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
