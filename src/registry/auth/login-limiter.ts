/**
 * Slows password guessing without handing anyone a way to lock others out:
 * failures count per (account, address) and per address. A guesser is
 * refused (HTTP 429 with Retry-After) until the window has passed, even with
 * the right password, so it learns nothing while blocked; the same account
 * from elsewhere, and credentials that verified recently, are not affected.
 */
import { createHash } from 'node:crypto';

export interface LoginLimits {
  windowMs: number;
  /** Failures allowed for one account from one address within the window. */
  perAccount: number;
  /** Failures allowed from one address, whatever the accounts. */
  perAddress: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { windowMs: 60_000, perAccount: 10, perAddress: 100 };

// Bounded memory under a spray of names and addresses.
const MAX_KEYS = 10_000;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {}

  /** Seconds to wait before trying again, or 0 when an attempt may be made. */
  retryAfter(account: string, address: string): number {
    const now = Date.now();
    const wait = Math.max(
      this.blockedFor(accountKey(account, address), this.limits.perAccount, now),
      this.blockedFor(`i:${address}`, this.limits.perAddress, now),
    );
    return Math.ceil(wait / 1000);
  }

  failed(account: string, address: string): void {
    const now = Date.now();
    for (const key of [accountKey(account, address), `i:${address}`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.delete(key); // re-insert: the map's order is oldest activity first
      this.failures.set(key, list);
    }
    if (this.failures.size > MAX_KEYS) this.prune(now);
  }

  succeeded(account: string, address: string): void {
    this.failures.delete(accountKey(account, address));
  }

  private prune(now: number): void {
    for (const [key, list] of this.failures) if (list.every((t) => now - t >= this.limits.windowMs)) this.failures.delete(key);
    while (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
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

/** Names are attacker-chosen and up to a request's size: key by a short hash. */
function accountKey(account: string, address: string): string {
  return `a:${createHash('sha256').update(account).update('\0').update(address).digest('base64url').slice(0, 22)}`;
}
