// Helpers of the query tests: paging a listing to its end over HTTP.
import { call } from '../support/http.ts';

/** Every row of a listing over HTTP, following next_cursor; fails on any non-200. */
export async function allPages<T = any>(path: string, token: string): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await call(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path, { token });
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    rows.push(...res.body.data);
    if (res.body.next_cursor && res.body.next_cursor === cursor) throw new Error(`${path}: the cursor did not move`);
    cursor = res.body.next_cursor;
    if (!cursor) return rows;
  }
  throw new Error('too many pages');
}
