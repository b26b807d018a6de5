/**
 * Authentication and authorization of every request to the embedded
 * registry: Bearer tokens from our token service (the Docker/Harbor flow),
 * Basic credentials for simple clients, anonymous pulls of public projects.
 */
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Accounts } from './accounts.js';
import { allowedActions, grant, isSystemAdmin, type AccessEntry } from './access.js';
import { LoginLimiter, type LoginLimits } from './login-limiter.js';
import { ANONYMOUS, type Principal, type RegistryAction } from './model.js';
import { loadOrCreateSigningKey, type TokenSigningKey } from './signing-key.js';
import { DEFAULT_TOKEN_SETTINGS, TokenService, type TokenSettings } from './tokens.js';

export interface AccessControlOptions {
  dataDir: string;
  tokens?: Partial<TokenSettings>;
  loginLimits?: LoginLimits;
}

/** Who is asking, as far as the request's Authorization header says. */
export type Caller =
  | { kind: 'anonymous' }
  /** A token we issued: only its `access` counts. */
  | { kind: 'token'; subject: string; access: AccessEntry[] }
  | { kind: 'basic'; principal: Principal }
  /** Wrong credentials or a token we cannot verify. */
  | { kind: 'invalid'; reason: string }
  /** Too many failed logins: try again in `retryAfter` seconds. */
  | { kind: 'limited'; retryAfter: number };

export class AccessControl {
  readonly limiter: LoginLimiter;

  private constructor(
    readonly accounts: Accounts,
    readonly tokens: TokenService,
    readonly signingKey: TokenSigningKey,
    loginLimits?: LoginLimits,
  ) {
    this.limiter = new LoginLimiter(loginLimits);
  }

  static async open(opts: AccessControlOptions): Promise<AccessControl> {
    const accounts = await Accounts.open(opts.dataDir);
    const key = await loadOrCreateSigningKey(join(opts.dataDir, 'auth'));
    const tokens = new TokenService(key, { ...DEFAULT_TOKEN_SETTINGS, ...opts.tokens });
    return new AccessControl(accounts, tokens, key, opts.loginLimits);
  }

  get settings(): TokenSettings {
    return this.tokens.settings;
  }

  /** Checks user and password, counting failures per account and address. */
  async login(name: string, password: string, address: string): Promise<Principal | { limited: number } | undefined> {
    // No account has such a name; it must not cost a bcrypt nor a limiter entry.
    if (name.length > 255 || password.length > 1024) return undefined;
    // Credentials that verified recently pass: a blocked guesser cannot lock their owner out.
    if (!this.accounts.verifiedRecently(name, password)) {
      const wait = this.limiter.retryAfter(name, address);
      if (wait > 0) return { limited: wait };
    }
    const principal = await this.accounts.authenticate(name, password);
    if (principal) this.limiter.succeeded(name, address);
    else this.limiter.failed(name, address);
    return principal;
  }

  async caller(req: IncomingMessage): Promise<Caller> {
    const header = req.headers.authorization;
    if (!header) return { kind: 'anonymous' };
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer') {
      const verified = await this.tokens.verify(value);
      return verified ? { kind: 'token', subject: verified.subject, access: verified.access } : { kind: 'invalid', reason: 'invalid token' };
    }
    if (scheme === 'basic') {
      const creds = decodeBasic(value);
      if (!creds) return { kind: 'invalid', reason: 'malformed Basic credentials' };
      const result = await this.login(creds.user, creds.password, addressOf(req));
      if (!result) return { kind: 'invalid', reason: 'invalid username or password' };
      if ('limited' in result) return { kind: 'limited', retryAfter: result.limited };
      return { kind: 'basic', principal: result };
    }
    return { kind: 'invalid', reason: `unsupported authorization scheme ${scheme}` };
  }

  /** Whether `caller` may do `action` on `repository`. */
  permits(caller: Caller, repository: string, action: RegistryAction): boolean {
    const state = this.accounts.store.current();
    switch (caller.kind) {
      case 'token': {
        // Tokens from other issuers may list a resource more than once: any entry may grant.
        const granted = caller.access.some(
          (a) => a.type === 'repository' && a.name === repository && a.actions.some((x) => x === action || x === '*'),
        );
        if (!granted) return false;
        // The token says what was granted when it was issued; the accounts say
        // what holds now. Both must agree, so a removed member, a deleted robot
        // or a project made private loses access at once, not when the token expires.
        const principal = caller.subject === '' ? ANONYMOUS : this.principalOf(caller);
        return principal !== undefined && allowedActions(state, principal, repository).has(action);
      }
      case 'basic':
        return allowedActions(state, caller.principal, repository).has(action);
      case 'anonymous':
        return allowedActions(state, ANONYMOUS, repository).has(action);
      default:
        return false;
    }
  }

  /** `GET /v2/_catalog` is for system admins (Harbor's rule too). */
  permitsCatalog(caller: Caller): boolean {
    const state = this.accounts.store.current();
    if (caller.kind === 'token') {
      const principal = this.principalOf(caller);
      const granted = caller.access.some((a) => a.type === 'registry' && a.name === 'catalog' && a.actions.includes('*'));
      return granted && principal !== undefined && isSystemAdmin(state, principal);
    }
    return caller.kind === 'basic' && isSystemAdmin(state, caller.principal);
  }

  /** The principal behind a caller that proved who it is. */
  principalOf(caller: Caller): Principal | undefined {
    if (caller.kind === 'basic') return caller.principal;
    if (caller.kind === 'token' && caller.subject !== '') {
      const state = this.accounts.store.current();
      const user = state.users.find((u) => u.name === caller.subject);
      if (user) return { kind: 'user', name: user.name, admin: user.admin };
      const robot = state.robots.find((r) => r.name === caller.subject);
      const expired = robot?.expiresAt !== undefined && Date.parse(robot.expiresAt) < Date.now();
      if (robot && !robot.disabled && !expired) return { kind: 'robot', name: robot.name, permissions: robot.permissions };
    }
    return undefined;
  }

  /** Issues a token for `principal` with the part of `requested` it is allowed. */
  async issueToken(principal: Principal, requested: AccessEntry[]) {
    const access = grant(this.accounts.store.current(), principal, requested);
    return { access, ...(await this.tokens.issue(principal.kind === 'anonymous' ? '' : principal.name, access)) };
  }
}

export function decodeBasic(value: string): { user: string; password: string } | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function addressOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
