// One page of a keyset listing, for every list route: ask for one row more than the limit, answer
// `limit` rows, and make the next cursor from the last row answered only when that extra row
// exists, so the last page says so (next_cursor null) without a count.
export interface KeysetPage<R> {
  rows: R[];
  next_cursor: string | null;
}

export async function fetchPage<R>(
  limit: number,
  fetch: (rows: number) => Promise<readonly R[]>,
  cursorAfter: (last: R) => string,
): Promise<KeysetPage<R>> {
  const rows = await fetch(limit + 1);
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  return { rows: page, next_cursor: more ? cursorAfter(page[page.length - 1]) : null };
}
