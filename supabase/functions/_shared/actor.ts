// Who acted: the facts every event records (event_logs.actor). requireAuth fingerprints the key
// the caller presented; withCaller (db.ts) puts the actor into `request.jwt.claims`, where the
// default of event_logs.actor reads it for every event row (migration event_logs).
import type { Claims } from './auth.ts';

/** The actor of one request, as stored in event_logs.actor (nulls left out). */
export interface Actor {
  /** The role of the presented token: authenticated (a user) or service_role. */
  role: Claims['role'];
  /** The user whose token it is. */
  sub?: string;
  /** The user a service-role caller acts for (`user_id`), when it does. */
  acting_for?: string;
  /** Which key: `sha256:` and the first 16 hex digits of the SHA-256 of the presented token. */
  key?: string;
}

/** A short, stable name for a presented key or token that does not reveal it. */
export async function keyFingerprint(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  return 'sha256:' + Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function actorOf(claims: Claims, actingFor?: string): Actor {
  const actor: Actor = { role: claims.role };
  if (typeof claims.sub === 'string' && claims.role !== 'service_role') actor.sub = claims.sub;
  if (actingFor) actor.acting_for = actingFor;
  if (typeof claims.key_fingerprint === 'string') actor.key = claims.key_fingerprint;
  return actor;
}
