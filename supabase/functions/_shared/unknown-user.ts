// A write for a user that auth.users does not hold (Postgres 23503 on a `*_user_id_fkey`), answered
// with what to do about it. With a user's token no `user_id` was sent, so the message names the
// token's user rather than a field. (Postgres leaves the key out of the error's detail when the role
// may not read auth.users, so the id comes from the claims.) On a hosted project, Supabase Auth
// creates users; the local stack has no Auth service, and `npm run token -- --user <uuid> --create`
// adds one.
import type { Claims } from './auth.ts';
import { ApiError, ErrorCode } from './errors.ts';

/** The ApiError for an unknown user, or undefined when `err` is something else. */
export function unknownUserError(err: unknown, claims?: Pick<Claims, 'role' | 'sub'>): ApiError | undefined {
  const e = err as { code?: unknown; constraint_name?: unknown } | null;
  if (e?.code !== '23503' || !/user_id/.test(String(e.constraint_name ?? ''))) return undefined;
  const id = claims?.role === 'authenticated' ? claims.sub : undefined;
  const who = id ? `user ${id} (the token's user) is` : 'the user named by user_id is';
  return new ApiError(422, ErrorCode.unprocessable,
    `no such user: ${who} not in this project's auth.users. ` +
      `On the local stack, create it with \`npm run token -- --user ${id ?? '<user_id>'} --create\`; ` +
      'on a hosted project, users are created by Supabase Auth (sign-up or the dashboard).',
    [{ path: 'user_id', issue: 'no such user' }]);
}
