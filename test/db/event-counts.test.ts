// events_last_24h from the trigger-kept per-minute counts (event_counts): equal to a count of
// event_logs over the exact window, around the minute the window's start cuts, and after a purge.
import { describe, expect, it } from 'vitest';
import { adminSql, API_ROLE, asRole } from '../support/db.ts';
import { newUser } from '../support/users.ts';

/** Events of one user at these offsets before now, in one insert (as the owner: only triggers log). */
async function logEvents(userId: string, secondsAgo: number[]): Promise<void> {
  await adminSql()`
    insert into public.event_logs (event_type, entity_type, user_id, created_at)
    select 'performance_metric', 'function', ${userId}, now() - make_interval(secs => s)
      from unnest(${secondsAgo}::float8[]) as s`;
}

async function kept(userId: string): Promise<Record<string, number>> {
  const rows = await adminSql()`
    select minute::text, sum(n)::int as n from public.event_counts where user_id = ${userId} group by 1 having sum(n) <> 0`;
  return Object.fromEntries(rows.map((r) => [r.minute, r.n]));
}

async function recount(userId: string): Promise<Record<string, number>> {
  const rows = await adminSql()`
    select date_trunc('minute', created_at)::text as minute, count(*)::int as n
      from public.event_logs where user_id = ${userId} group by 1`;
  return Object.fromEntries(rows.map((r) => [r.minute, r.n]));
}

describe('event_counts', () => {
  it('events_last_24h equals a count over the exact window, the cut minute included', async () => {
    const user = await newUser();
    const day = 24 * 3600;
    // Around the window's start (one second either side, within its cut minute and the next),
    // well inside, and outside.
    await logEvents(user.id, [day + 1, day - 1, day - 30, day - 61, day - 90, 3600, 60, 0, day + 3600, 2 * day]);
    await logEvents(user.id, [5, 5, 5]);
    expect(await kept(user.id)).toEqual(await recount(user.id));
    const [{ mine, counted }] = await asRole(API_ROLE, user.id, (tx) => tx`
      select public.events_last_24h(${user.id})::int as mine,
             (select count(*) from public.event_logs where created_at > now() - interval '24 hours')::int as counted`);
    expect(counted).toBe(10);
    expect(mine).toBe(counted);
  });

  it('follows a purge: deleted minutes leave the counts', async () => {
    const user = await newUser();
    await logEvents(user.id, [3 * 24 * 3600, 3 * 24 * 3600 + 5, 120, 0]);
    // The retention delete, only for this user, rolled back so other tests keep their events.
    const inside = await adminSql().begin(async (tx) => {
      await tx`select set_config('quantum_forge.purging_event_logs', 'on', true)`;
      await tx`delete from public.event_logs where user_id = ${user.id} and created_at < now() - interval '2 days'`;
      const rows = await tx`
        select (select count(*) from public.event_counts where user_id = ${user.id} and minute < now() - interval '2 days')::int as old_rows,
               (select sum(n) from public.event_counts where user_id = ${user.id})::int as total`;
      await tx`select set_config('quantum_forge.purging_event_logs', 'off', true)`;
      throw Object.assign(new Error('rollback'), { rows });
    }).catch((e) => (e as { rows?: { old_rows: number; total: number }[] }).rows);
    expect(inside).toEqual([{ old_rows: 0, total: 2 }]);
    expect(await kept(user.id)).toEqual(await recount(user.id));
  });
});
