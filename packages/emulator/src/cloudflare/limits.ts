/**
 * Per-token request quota: "1200 requests per five minute period"; past it "all API calls for the next five
 * minutes will be blocked, receiving a HTTP 429", with `Ratelimit`, `Ratelimit-Policy` and (on 429)
 * `retry-after` headers. https://developers.cloudflare.com/fundamentals/api/reference/limits/
 */
export interface RateLimitSettings {
  /** Requests per window. */
  readonly requests: number;
  /** Window length in milliseconds (already scaled by the time scale). */
  readonly windowMs: number;
}

interface Bucket {
  windowStart: number;
  count: number;
  blockedUntil: number;
}

/** What one request is allowed to do, and the headers to send with the answer. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly headers: Record<string, string>;
  /** Whole seconds until the block lifts (at least 1), when not allowed. */
  readonly retryAfterSeconds: number;
}

/** Counts requests per token in fixed windows; exceeding the quota blocks the token for one window. */
export class RateLimiter {
  readonly #settings: RateLimitSettings;
  readonly #buckets = new Map<string, Bucket>();

  constructor(settings: RateLimitSettings) {
    this.#settings = settings;
  }

  /** Records one request for `token` at `now` (ms) and decides whether it may run. */
  take(token: string, now: number): RateDecision {
    const { requests, windowMs } = this.#settings;
    let b = this.#buckets.get(token);
    if (!b || (now - b.windowStart >= windowMs && now >= b.blockedUntil)) {
      b = { windowStart: now, count: 0, blockedUntil: 0 };
      this.#buckets.set(token, b);
    }
    const secs = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
    const policy = `"default";q=${requests};w=${Math.round(windowMs / 1000)}`;
    if (now < b.blockedUntil) {
      const wait = secs(b.blockedUntil - now);
      return { allowed: false, retryAfterSeconds: wait, headers: headers(0, wait, policy) };
    }
    b.count++;
    if (b.count > requests) {
      b.blockedUntil = now + windowMs;
      const wait = secs(windowMs);
      return { allowed: false, retryAfterSeconds: wait, headers: headers(0, wait, policy) };
    }
    const reset = secs(b.windowStart + windowMs - now);
    return { allowed: true, retryAfterSeconds: 0, headers: headers(requests - b.count, reset, policy) };
  }
}

const headers = (remaining: number, resetSeconds: number, policy: string): Record<string, string> => ({
  ratelimit: `"default";r=${remaining};t=${resetSeconds}`,
  "ratelimit-policy": policy,
});
