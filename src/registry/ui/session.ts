/**
 * Web UI sessions, kept in this process only: a random id in an HttpOnly
 * cookie names a record here, so logging out or restarting the server ends
 * every session, and nothing in the cookie can be forged or replayed after
 * that. A session ends after `idleMs` without a request and `absoluteMs`
 * after login whatever happens; one account keeps at most `maxPerAccount`
 * sessions, so its logins cannot crowd out other users'. The account behind
 * it is re-checked on every request by the router (accounts change under a
 * running server).
 */
import { createHash, randomBytes } from 'node:crypto';

export interface SessionLimits {
  /** Without a request for this long, the session is gone (default 30 min). */
  idleMs: number;
  /** After login, the session is gone after this long whatever happens (default 8 h). */
  absoluteMs: number;
  /** Sessions kept at most; the least recently used goes first (default 10 000). */
  max: number;
  /**
   * Sessions of one account kept at most; a new login ends that account's
   * oldest (default 20). One account logging in again and again cannot push
   * everyone else's sessions out of the store.
   */
  maxPerAccount?: number;
}

export const DEFAULT_SESSION_LIMITS: Required<SessionLimits> = {
  idleMs: 30 * 60_000,
  absoluteMs: 8 * 3600_000,
  max: 10_000,
  maxPerAccount: 20,
};

/** A one-time message for the next page (POST-redirect-GET), with a robot secret to show once. */
export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  secret?: { name: string; secret: string };
}

export interface Session {
  /** The registry user, and what identified the account at login (id and password hash digest). */
  user: string;
  userId: number;
  credentialStamp: string;
  /** Per-session CSRF token, sent in a hidden field of every form. */
  csrf: string;
  createdAt: number;
  lastSeen: number;
  flash?: Flash;
}

export type Clock = () => number;

/** A digest of the stored password hash: a password change ends the sessions made with the old one. */
export function credentialStamp(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url').slice(0, 16);
}

export class SessionStore {
  // Map order is least recently used first: get() re-inserts.
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    private readonly now: Clock = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  create(user: { name: string; id: number; passwordHash: string }): { id: string; session: Session } {
    const at = this.now();
    const id = randomBytes(32).toString('base64url');
    const session: Session = {
      user: user.name,
      userId: user.id,
      credentialStamp: credentialStamp(user.passwordHash),
      csrf: randomBytes(32).toString('base64url'),
      createdAt: at,
      lastSeen: at,
    };
    this.limitAccount(session);
    this.sessions.set(id, session);
    this.prune(at);
    return { id, session };
  }

  /** Makes room for one more session of this account: its oldest (by login) go, and any that expired. */
  private limitAccount(s: Session): void {
    const max = Math.max(1, this.limits.maxPerAccount ?? DEFAULT_SESSION_LIMITS.maxPerAccount);
    const at = this.now();
    const own: Array<[string, Session]> = [];
    for (const entry of this.sessions) {
      if (entry[1].userId !== s.userId || entry[1].user !== s.user) continue;
      if (this.expired(entry[1], at)) this.sessions.delete(entry[0]);
      else own.push(entry);
    }
    if (own.length < max) return;
    own.sort((a, b) => a[1].createdAt - b[1].createdAt);
    for (const [id] of own.slice(0, own.length - max + 1)) this.sessions.delete(id);
  }

  /** The live session for this id, its idle clock restarted; undefined (and forgotten) when expired or unknown. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const at = this.now();
    this.sessions.delete(id);
    if (this.expired(session, at)) return undefined;
    session.lastSeen = at;
    this.sessions.set(id, session);
    return session;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private expired(s: Session, at: number): boolean {
    return at - s.lastSeen >= this.limits.idleMs || at - s.createdAt >= this.limits.absoluteMs;
  }

  private prune(at: number): void {
    if (this.sessions.size <= this.limits.max) return;
    for (const [id, s] of this.sessions) if (this.expired(s, at)) this.sessions.delete(id);
    while (this.sessions.size > this.limits.max) this.sessions.delete(this.sessions.keys().next().value!);
  }
}
