// The request plumbing of every data route, as one middleware: who calls (the verified token's
// claims, auth.ts), whose rows the request works on (the owner), and a per-request runner,
// `c.var.db(tx => …)`, that opens the request's one RLS transaction as that owner with the
// statement timeout. Handlers only parse, run and answer; nothing outside _shared/ opens a
// transaction itself. `c.var.identify` identifies a request's SMILES within its CPU budget,
// counted from the request's start (molecules.ts).
//
// Where it runs. A read-only request runs its transaction read-only, on the read replica when one
// is configured (SUPABASE_DB_READ_URL, deps.readSql) and on the primary otherwise. `readOnly` says
// which requests are: `true` for a whole app (the query function: nothing there writes), or
// `readsOnly` for an app whose GET routes only read and whose other methods write (datasets:
// release downloads go to the replica, making a release stays on the primary). Routes that write,
// or must read what they just wrote, stay on the primary. The replica may lag the primary by a
// moment (docs/scaling.md).
//
// The owner. A user token works on its own rows, always. The service-role key must say whose:
// `user_id` runs the transaction as that user under RLS; `all_users: true` (only where a route's
// contract has it: the runner fleet's batch routes) runs it as service_role, which bypasses RLS,
// and the SQL functions refuse all_users for any role that does not. A user token asking for
// another user's rows or for all_users is a 403. A missing or refused user_id is reported where it
// was looked for: a query parameter (400 invalid_parameter) or a body field (422 invalid_payload).
// params.ts settles the owner as it parses a request's input.
import type { Context, MiddlewareHandler } from 'hono';
import { requireAuth, ROLES, type AuthEnv, type Claims, type Role, type TokenVerifier } from './auth.ts';
import { withCaller, type Sql, type Tx } from './db.ts';
import type { FunctionEnv } from './env.ts';
import { ApiError, ErrorCode, forbidden } from './errors.ts';
import { cpuNowMs, identifyAll, identifyBudget, type Identify } from './molecules.ts';

export interface Owner {
  /** Run as this user (a service-role caller acting for a user). */
  actAs?: string;
  /** Run as service_role across every user's rows (the SQL functions take it as p_all_users). */
  allUsers: boolean;
}

/**
 * Runs `work` in the request's transaction, as its owner, under DB_STATEMENT_TIMEOUT_MS or the
 * longer `statementTimeoutMs` of a route that must (making a release reads every member).
 */
export type Db = <T>(work: (tx: Tx) => Promise<T>, opts?: { statementTimeoutMs?: number }) => Promise<T>;

export interface RequestEnv {
  Variables: {
    claims: Claims;
    owner: Owner | undefined;
    db: Db;
    identify: Identify;
    env: FunctionEnv;
  };
}

export type RequestContext = Context<RequestEnv>;
export type RouteHandler = (c: RequestContext) => Promise<Response>;

export type OwnerSource = 'query' | 'body';

/** What the middleware needs of the isolate's dependencies (app.ts builds them). */
export interface CallerDeps {
  env: FunctionEnv;
  sql: Sql;
  /** The read replica's pool; read-only routes fall back to `sql` without one. */
  readSql?: Sql;
  verify: TokenVerifier;
}

export interface CallerOptions {
  /**
   * Which requests only read (read-only transactions, on the replica when there is one): all of
   * them (`true`), or those the function picks, decided per request.
   */
  readOnly?: boolean | ((c: RequestContext) => boolean);
}

/** GET and HEAD requests read; every other method may write. */
export const readsOnly = (c: RequestContext): boolean => c.req.method === 'GET' || c.req.method === 'HEAD';

/**
 * Requires a token of one of `roles` (auth.ts answers 401/403), then gives the handlers
 * `c.var.env` and `c.var.db`. The runner uses the owner that parsing the input settled.
 */
export function caller(deps: CallerDeps, roles: readonly Role[] = ROLES, opts: CallerOptions = {}): MiddlewareHandler<RequestEnv> {
  const authenticate = requireAuth(deps.verify, roles);
  const pick = opts.readOnly;
  return (c, next) => {
    const startedCpuMs = cpuNowMs();
    const readOnly = typeof pick === 'function' ? pick(c) : pick === true;
    const sql = readOnly ? deps.readSql ?? deps.sql : deps.sql;
    // requireAuth sets `claims` only, which RequestEnv has too.
    return authenticate(c as unknown as Context<AuthEnv>, async () => {
      c.set('env', deps.env);
      c.set('db', (work, opts) => withCaller(sql, c.get('claims'), work, {
        actAs: ownerOf(c).actAs,
        statementTimeoutMs: opts?.statementTimeoutMs ?? deps.env.statementTimeoutMs,
        readOnly,
      }));
      c.set('identify', (smiles) => identifyAll(deps.sql, smiles, identifyBudget(deps.env, startedCpuMs)));
      await next();
    });
  };
}

/** The owner that parsing the request's input settled (params.ts). */
export function ownerOf(c: RequestContext): Owner {
  const owner = c.get('owner');
  // Every route parses its input with params.ts before it runs anything: a bug here otherwise.
  if (!owner) throw new Error('the owner of this request was not settled before its transaction');
  return owner;
}

/** A user_id that cannot be taken, as the error of the place it came from. */
function invalidUserId(from: OwnerSource, issue: string): ApiError {
  const detail = [{ path: 'user_id', issue }];
  return from === 'query'
    ? new ApiError(400, ErrorCode.invalidParameter, `invalid query parameter user_id: ${issue}`, detail)
    : new ApiError(422, ErrorCode.invalidPayload, `invalid field user_id: ${issue}`, detail);
}

/**
 * Settles the request's owner from its parsed `user_id` / `all_users`. `allUsersAllowed` says
 * whether the route takes all_users at all (only for the message of a missing user_id).
 */
export function settleOwner(
  c: RequestContext,
  fields: { user_id?: string; all_users?: boolean },
  from: OwnerSource,
  allUsersAllowed = false,
): Owner {
  const claims = c.get('claims');
  let owner: Owner;
  if (claims.role === 'service_role') {
    if (fields.all_users && fields.user_id) throw invalidUserId(from, 'give user_id or all_users: true, not both');
    if (fields.all_users) owner = { allUsers: true };
    else if (fields.user_id) owner = { actAs: fields.user_id, allUsers: false };
    else {
      throw invalidUserId(from, allUsersAllowed
        ? 'the service-role key must name the user (user_id) or ask for all_users: true'
        : 'required with the service-role key');
    }
  } else {
    if (fields.all_users) throw forbidden('all_users: only the service-role key may work across users');
    if (fields.user_id && fields.user_id !== claims.sub) throw forbidden('user_id: a user token works only on its own rows');
    owner = { allUsers: false };
  }
  c.set('owner', owner);
  return owner;
}
