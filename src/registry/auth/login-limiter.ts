/**
 * Slows password guessing: after too many failed logins for one account or
 * from one address within a window, further attempts are refused (HTTP 429
 * with Retry-After) until the window has passed, even with the right
 * password, so a guesser learns nothing while blocked.
 */
export interface LoginLimits {
  windowMs: number;
  perAccount: number;
  perAddress: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { windowMs: 60_000, perAccount: 10, perAddress: 30 };

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {}

  /** Seconds to wait before trying again, or 0 when an attempt may be made. */
  retryAfter(account: string, address: string): number {
    const now = Date.now();
    const wait = Math.max(this.blockedFor(`a:${account}`, this.limits.perAccount, now), this.blockedFor(`i:${address}`, this.limits.perAddress, now));
    return Math.ceil(wait / 1000);
  }

  failed(account: string, address: string): void {
    const now = Date.now();
    for (const key of [`a:${account}`, `i:${address}`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.set(key, list);
    }
    // Bounded memory under a spray of names: forget the oldest keys.
    while (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(account: string): void {
    this.failures.delete(`a:${account}`);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
  }

  private blockedFor(key: string, max: number, now: number): number {
    const list = this.recent(key, now);
    if (list.length < max) return 0;
    return this.limits.windowMs - (now - list[list.length - max]!);
  }
}
