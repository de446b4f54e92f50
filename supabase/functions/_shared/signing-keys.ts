// The asymmetric signing keys (ES256, RS256, EdDSA) that tokens are checked against: an inline
// JWKS, keys fetched from the project's Auth server, or both. A token whose `kid` is not known
// triggers one refetch, at most one per cooldown, so a rotated key works without a redeploy and a
// flood of made-up key ids cannot hammer Auth. A fetch that fails or outlasts its timeout throws
// KeySourceUnavailable: the caller answers 503, since the token may well be good.
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface SigningKeyOptions {
  /** Keys given in the environment; always tried first, never refetched. */
  inline?: JSONWebKeySet;
  /** Where to fetch the project's keys (`/auth/v1/.well-known/jwks.json`). */
  url?: string;
  timeoutMs: number;
  cooldownMs: number;
  /** Fetched keys older than this are refreshed in the background (default 10 minutes). */
  maxAgeMs?: number;
  fetch?: typeof fetch;
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
}

/** The key source could not be read: not the token's fault. */
export class KeySourceUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeySourceUnavailable';
  }
}

export function createSigningKeys(opts: SigningKeyOptions): JWTVerifyGetKey {
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetch ?? fetch;
  const maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
  const inline = opts.inline?.keys ?? [];
  let remote: JSONWebKeySet | undefined;
  let fetchedAt = -Infinity;
  let inFlight: Promise<void> | undefined;
  let lookup = createLocalJWKSet({ keys: inline });

  async function fetchKeys(url: string): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), opts.timeoutMs);
    try {
      const res = await doFetch(url, { signal: abort.signal, headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = await res.json() as JSONWebKeySet;
      if (!Array.isArray(body?.keys)) throw new Error('the answer is not a JSON Web Key Set');
      lookup = createLocalJWKSet({ keys: [...inline, ...body.keys] });
      remote = body;
    } catch (err) {
      const why = abort.signal.aborted ? `no answer within ${opts.timeoutMs} ms` : (err as Error).message;
      console.error(`signing keys: fetching ${url} failed: ${why}`);
      throw new KeySourceUnavailable(`could not fetch the signing keys: ${why}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One fetch at a time; the time of the attempt counts for the cooldown, success or not. */
  function load(url: string): Promise<void> {
    if (!inFlight) {
      fetchedAt = now();
      inFlight = fetchKeys(url).finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight;
  }

  return async (header, token) => {
    const url = opts.url;
    if (url && remote && !inFlight && now() - fetchedAt >= maxAgeMs) {
      // Stale but usable: refresh without making this request wait.
      load(url).catch(() => {});
    }
    try {
      return await lookup(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !url) throw err;
    }
    if (inFlight) {
      await inFlight;
    } else if (now() - fetchedAt >= opts.cooldownMs) {
      await load(url);
    } else if (!remote) {
      throw new KeySourceUnavailable('the signing keys could not be fetched recently; retry shortly');
    } else {
      throw new errors.JWKSNoMatchingKey();
    }
    return await lookup(header, token);
  };
}
