import bcrypt from 'bcryptjs';
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

// Cost 10 is bcrypt's default and Harbor's order of magnitude: ~60 ms in
// bcryptjs here, paid once per login or token request, never per blob.
const COST = 10;

/**
 * bcrypt reads only the first 72 bytes, and the policy allows 128
 * characters (Harbor's rule): a longer password is hashed with sha256 first,
 * so every character counts. The prefix keeps the two kinds of input apart.
 */
function bcryptInput(password: string): string {
  if (Buffer.byteLength(password) <= 72) return password;
  return `sha256:${createHash('sha256').update(password).digest('base64')}`;
}

export async function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(bcryptInput(password), COST);
}

/** A bcrypt hash of a random string: checking against it costs as much as a real check. */
export const DUMMY_HASH = '$2b$10$Ux0Gt.e36Wrd9qGO1HYRxOOUUCxk8yY1ylQrUghno0tyvzBnoD5ju';

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  // Nothing longer than the policy allows is worth a bcrypt.
  if (password.length > 128) return false;
  return bcrypt.compare(bcryptInput(password), hash);
}

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A random secret that meets the password policy (upper, lower, digit), for admins and robots. */
export function generateSecret(length = 32): string {
  for (;;) {
    let s = '';
    for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s)) return s;
  }
}

/**
 * Remembers credentials that verified recently, so a client that sends Basic
 * auth on every request (curl, some CI tools) does not pay bcrypt each time.
 * Keyed by a hash that includes the stored hash: a password change or a
 * deleted account invalidates the entry by itself.
 */
export class VerifiedCredentialsCache {
  private readonly entries = new Map<string, number>();
  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly max = 1000,
  ) {}

  /** An opaque key for these credentials (a hash: the password is never kept). */
  keyOf(name: string, password: string, storedHash: string): string {
    return createHash('sha256').update(name).update('\0').update(password).update('\0').update(storedHash).digest('base64');
  }

  has(name: string, password: string, storedHash: string): boolean {
    const key = this.keyOf(name, password, storedHash);
    const until = this.entries.get(key);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  add(name: string, password: string, storedHash: string): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(this.keyOf(name, password, storedHash), Date.now() + this.ttlMs);
  }
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
