// Whose rows a write creates: a user's token writes as that user; the service-role key must name
// the user (`user_id`) and then runs as that user under RLS.
import type { Claims } from './auth.ts';
import { ApiError, ErrorCode, forbidden } from './errors.ts';

/** The user id to act as, or undefined when the caller's own token already says who it is. */
export function resolveOwner(claims: Claims, userId: string | undefined): string | undefined {
  if (claims.role === 'service_role') {
    if (!userId) {
      throw new ApiError(422, ErrorCode.invalidPayload, 'user_id: required with the service-role key', [
        { path: 'user_id', issue: 'required with the service-role key' },
      ]);
    }
    return userId;
  }
  if (userId && userId !== claims.sub) throw forbidden('user_id: a user token writes only its own rows');
  return undefined;
}
