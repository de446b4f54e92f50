// Whose rows a request works on: a user's token, its own; the service-role key must name the user
// (`user_id`) and then runs as that user under RLS. A missing or refused user_id is reported where
// it was looked for: a query parameter (400 invalid_parameter) or a body field (422 invalid_payload).
import type { Claims } from './auth.ts';
import { ApiError, ErrorCode, forbidden } from './errors.ts';

export type OwnerSource = 'query' | 'body';

/** A user_id that cannot be taken, as the error of the place it came from. */
export function invalidUserId(from: OwnerSource, issue: string): ApiError {
  const detail = [{ path: 'user_id', issue }];
  return from === 'query'
    ? new ApiError(400, ErrorCode.invalidParameter, `invalid query parameter user_id: ${issue}`, detail)
    : new ApiError(422, ErrorCode.invalidPayload, `invalid field user_id: ${issue}`, detail);
}

/** The user id to act as, or undefined when the caller's own token already says who it is. */
export function resolveOwner(claims: Claims, userId: string | undefined, from: OwnerSource = 'body'): string | undefined {
  if (claims.role === 'service_role') {
    if (!userId) throw invalidUserId(from, 'required with the service-role key');
    return userId;
  }
  if (userId && userId !== claims.sub) throw forbidden('user_id: a user token works only on its own rows');
  return undefined;
}
