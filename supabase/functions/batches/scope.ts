// Whose rows a batches request works on. A user token: its own, always. The service-role key must
// say so explicitly: `user_id` runs the transaction as that user under row-level security, and
// `all_users: true` runs it as service_role, which bypasses RLS (the SQL functions refuse
// all_users for any role that does not). A user token asking for all_users gets 403.
import type { Claims } from '../_shared/auth.ts';
import { continueAsUser, type Tx } from '../_shared/db.ts';
import { forbidden } from '../_shared/errors.ts';
import { invalidUserId, type OwnerSource } from '../_shared/owner.ts';

export interface Scope {
  /** Run as this user (a service-role caller acting for a user). */
  actAs?: string;
  /** Run as service_role across every user's rows. */
  allUsers: boolean;
}

export function resolveScope(
  claims: Claims,
  fields: { user_id?: string; all_users?: boolean },
  from: OwnerSource = 'body',
): Scope {
  const invalid = (issue: string) => invalidUserId(from, issue);
  if (claims.role === 'service_role') {
    if (fields.all_users && fields.user_id) throw invalid('give user_id or all_users: true, not both');
    if (fields.all_users) return { allUsers: true };
    if (fields.user_id) return { actAs: fields.user_id, allUsers: false };
    throw invalid('the service-role key must name the user (user_id) or ask for all_users: true');
  }
  if (fields.all_users) throw forbidden('all_users: only the service-role key may work across users');
  if (fields.user_id && fields.user_id !== claims.sub) throw forbidden('user_id: a user token works only on its own rows');
  return { allUsers: false };
}

/**
 * Inside a service-role transaction, continues as the owner of a row found across users: from
 * here on the statements run as that user under RLS, exactly as withCaller's actAs.
 */
export function continueAsOwner(tx: Tx, claims: Claims, userId: string): Promise<void> {
  return continueAsUser(tx, claims, userId);
}
