// GET /batches: the caller's batches, newest first, each with its batch_progress, paged by cursor.
import type { Context } from 'hono';
import { ListBatchesQuery, type ListBatchesResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { badRequest } from '../_shared/errors.ts';
import { parseOr } from '../_shared/validate.ts';
import { selectBatches, toBatch } from './rows.ts';
import { resolveScope } from './scope.ts';

const TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Cursor: base64url of [created_at as Postgres text, id] of the last batch of a page. */
const encodeCursor = (createdAt: string, id: string) =>
  btoa(JSON.stringify([createdAt, id])).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' &&
        TIMESTAMP.test(value[0]) && UUID.test(value[1])) {
      return value as [string, string];
    }
  } catch {
    // reported below
  }
  throw badRequest('cursor: not a cursor from an earlier page', [{ path: 'cursor', issue: 'not a cursor from an earlier page' }]);
}

export function listBatches(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const query = parseOr(ListBatchesQuery, c.req.query(), 'query');
    const claims = c.get('claims');
    const scope = resolveScope(claims, query, 'query');
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await withCaller(deps.sql, claims, (tx) =>
      selectBatches(tx, { status: query.status, after, limit: query.limit + 1 }),
    { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const response: ListBatchesResponse = {
      batches: page.map(toBatch),
      next_cursor: rows.length > query.limit ? encodeCursor(last.cursor, last.id) : null,
    };
    return c.json(response, 200);
  };
}
