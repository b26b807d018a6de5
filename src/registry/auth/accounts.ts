/**
 * Account operations of the embedded registry (users, projects and their
 * members, robot accounts) and password checks, over the shared accounts
 * file. Hashing happens before the file lock is taken, so a slow bcrypt
 * never holds other writers up.
 */
import { AccountExistsError, AccountNotFoundError, ProjectNotEmptyError, UsageError } from '../../errors.js';
import {
  ROBOT_PREFIX,
  type AccountsState,
  type Principal,
  type ProjectRecord,
  type ProjectRole,
  type RegistryAction,
  type RobotPermission,
  type RobotRecord,
  type UserRecord,
} from './model.js';
import { checkPassword, checkProjectName, checkUserName, robotAccountName } from './names.js';
import { DUMMY_HASH, generateSecret, hashPassword, VerifiedCredentialsCache, verifyPassword } from './passwords.js';
import { AccountsStore } from './store.js';

export type UserInfo = Omit<UserRecord, 'passwordHash'>;
export type RobotInfo = Omit<RobotRecord, 'secretHash'>;
export type ProjectInfo = ProjectRecord;

export const INITIAL_ADMIN = 'admin';

export interface NewRobot {
  /** `name` or `robot$name`. */
  name: string;
  permissions: RobotPermission[];
  description?: string;
  /** Days until the secret stops working; undefined or -1 = never (Harbor's convention). */
  expiresInDays?: number;
}

function now(): string {
  return new Date().toISOString();
}

function userInfo({ passwordHash: _h, ...rest }: UserRecord): UserInfo {
  return rest;
}

function robotInfo({ secretHash: _h, ...rest }: RobotRecord): RobotInfo {
  return rest;
}

function findProject(state: AccountsState, name: string): ProjectRecord {
  const p = state.projects.find((x) => x.name === name);
  if (!p) throw new AccountNotFoundError(`project ${name} not found`);
  return p;
}

function findUser(state: AccountsState, name: string): UserRecord {
  const u = state.users.find((x) => x.name === name);
  if (!u) throw new AccountNotFoundError(`user ${name} not found`);
  return u;
}

export class Accounts {
  private readonly verified = new VerifiedCredentialsCache();
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(readonly store: AccountsStore) {}

  static async open(dataDir: string): Promise<Accounts> {
    return new Accounts(await AccountsStore.open(dataDir));
  }

  // ---- users

  listUsers(): UserInfo[] {
    return this.store.current().users.map(userInfo);
  }

  async addUser(opts: { name: string; password: string; admin?: boolean }): Promise<UserInfo> {
    const name = checkUserName(opts.name);
    const passwordHash = await hashPassword(checkPassword(opts.password));
    return this.store.update((s) => {
      if (s.users.some((u) => u.name === name)) throw new AccountExistsError(`user ${name} already exists`);
      const at = now();
      const user: UserRecord = { id: s.nextId++, name, passwordHash, admin: opts.admin ?? false, createdAt: at, updatedAt: at };
      s.users.push(user);
      return userInfo(user);
    });
  }

  async setPassword(name: string, password: string): Promise<void> {
    const passwordHash = await hashPassword(checkPassword(password));
    await this.store.update((s) => {
      const u = findUser(s, name);
      u.passwordHash = passwordHash;
      u.updatedAt = now();
    });
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    await this.store.update((s) => {
      const u = findUser(s, name);
      if (u.admin && !admin && s.users.filter((x) => x.admin).length === 1)
        throw new UsageError(`${name} is the last admin; the registry would have no one to manage it`, {
          hint: 'make another user admin first (chartprov serve user add NAME --admin)',
        });
      u.admin = admin;
      u.updatedAt = now();
    });
  }

  async deleteUser(name: string): Promise<void> {
    await this.store.update((s) => {
      const u = findUser(s, name);
      if (u.admin && s.users.filter((x) => x.admin).length === 1)
        throw new UsageError(`${name} is the last admin; the registry would have no one to manage it`, {
          hint: 'make another user admin first (chartprov serve user add NAME --admin)',
        });
      s.users = s.users.filter((x) => x !== u);
      for (const p of s.projects) p.members = p.members.filter((m) => m.user !== name);
    });
  }

  /**
   * Creates the first admin when the registry has no user at all. Returns
   * the password when it was generated here, so the caller can show it once.
   */
  async ensureInitialAdmin(password?: string): Promise<{ created: boolean; generatedPassword?: string }> {
    // Users may have been added (serve user add) before the first start; what matters is an admin.
    const needed = (s: AccountsState) => !s.users.some((u) => u.admin || u.name === INITIAL_ADMIN);
    if (!needed(this.store.current())) return { created: false };
    const secret = password ?? generateSecret(20);
    const passwordHash = await hashPassword(checkPassword(secret));
    const created = await this.store.update((s) => {
      if (!needed(s)) return false;
      const at = now();
      s.users.push({ id: s.nextId++, name: INITIAL_ADMIN, passwordHash, admin: true, createdAt: at, updatedAt: at });
      return true;
    });
    return created && password === undefined ? { created, generatedPassword: secret } : { created };
  }

  // ---- projects

  /** Copies: the cached state stays as on disk whatever a caller does with them. */
  listProjects(): ProjectInfo[] {
    return structuredClone(this.store.current().projects);
  }

  getProject(name: string): ProjectInfo | undefined {
    const p = this.store.current().projects.find((x) => x.name === name);
    return p && structuredClone(p);
  }

  async createProject(opts: { name: string; public?: boolean; owner?: string }): Promise<ProjectInfo> {
    const name = checkProjectName(opts.name);
    return this.store.update((s) => {
      if (s.projects.some((p) => p.name === name)) throw new AccountExistsError(`project ${name} already exists`);
      const at = now();
      const members = opts.owner && s.users.some((u) => u.name === opts.owner) ? [{ user: opts.owner, role: 'projectAdmin' as const }] : [];
      const project: ProjectRecord = { id: s.nextId++, name, public: opts.public ?? false, members, createdAt: at, updatedAt: at };
      s.projects.push(project);
      return project;
    });
  }

  async setProjectPublic(name: string, isPublic: boolean): Promise<void> {
    await this.store.update((s) => {
      const p = findProject(s, name);
      p.public = isPublic;
      p.updatedAt = now();
    });
  }

  /**
   * `repositories` is how many the project holds; Harbor refuses to delete a
   * project that is not empty, and so do we unless `force`.
   */
  async deleteProject(name: string, opts: { repositories: number; force?: boolean }): Promise<void> {
    await this.store.update((s) => {
      findProject(s, name);
      if (opts.repositories > 0 && !opts.force)
        throw new ProjectNotEmptyError(`project ${name} still holds ${opts.repositories} repositor${opts.repositories === 1 ? 'y' : 'ies'}`);
      s.projects = s.projects.filter((p) => p.name !== name);
      for (const r of s.robots) r.permissions = r.permissions.filter((x) => x.project !== name);
      // A robot left with no permission is a project robot of this project: it goes too (Harbor's rule).
      s.robots = s.robots.filter((r) => r.permissions.length > 0);
    });
  }

  /** Gives `user` a role in `project`, or removes the membership when `role` is undefined. */
  async setMember(project: string, user: string, role: ProjectRole | undefined): Promise<void> {
    await this.store.update((s) => {
      const p = findProject(s, project);
      findUser(s, user);
      p.members = p.members.filter((m) => m.user !== user);
      if (role) p.members.push({ user, role });
      p.updatedAt = now();
    });
  }

  // ---- robots

  listRobots(): RobotInfo[] {
    return this.store.current().robots.map(robotInfo);
  }

  /** The secret is returned here and never again (only its hash is kept). */
  async createRobot(opts: NewRobot): Promise<{ robot: RobotInfo; secret: string }> {
    const name = robotAccountName(opts.name);
    if (opts.permissions.length === 0)
      throw new UsageError(`robot ${name} would have no permission`, { hint: 'give it at least one --project NAME:pull[,push]' });
    for (const perm of opts.permissions) if (perm.project !== '*') checkProjectName(perm.project);
    const secret = generateSecret(32);
    const secretHash = await hashPassword(secret);
    const robot = await this.store.update((s) => {
      if (s.robots.some((r) => r.name === name)) throw new AccountExistsError(`robot ${name} already exists`);
      for (const perm of opts.permissions) if (perm.project !== '*') findProject(s, perm.project);
      const days = opts.expiresInDays;
      const record: RobotRecord = {
        id: s.nextId++,
        name,
        ...(opts.description ? { description: opts.description } : {}),
        secretHash,
        permissions: opts.permissions.map((p) => ({ project: p.project, actions: [...new Set(p.actions)] })),
        ...(days !== undefined && days >= 0 ? { expiresAt: new Date(Date.now() + days * 86_400_000).toISOString() } : {}),
        disabled: false,
        createdAt: now(),
      };
      s.robots.push(record);
      return robotInfo(record);
    });
    return { robot, secret };
  }

  async deleteRobot(name: string): Promise<void> {
    const full = robotAccountName(name);
    await this.store.update((s) => {
      if (!s.robots.some((r) => r.name === full)) throw new AccountNotFoundError(`robot ${full} not found`);
      s.robots = s.robots.filter((r) => r.name !== full);
    });
  }

  // ---- authentication

  /** True when these credentials verified within the last minutes (no bcrypt, no I/O). */
  verifiedRecently(name: string, password: string): boolean {
    const state = this.store.current();
    const hash = name.startsWith(ROBOT_PREFIX)
      ? state.robots.find((r) => r.name === name)?.secretHash
      : state.users.find((u) => u.name === name)?.passwordHash;
    return hash !== undefined && this.verified.has(name, password, hash);
  }

  /** The principal these credentials belong to, or undefined when they are wrong. */
  async authenticate(name: string, password: string): Promise<Principal | undefined> {
    const state = this.store.current();
    if (name.startsWith(ROBOT_PREFIX)) {
      const robot = state.robots.find((r) => r.name === name);
      const ok = await this.check(name, password, robot?.secretHash);
      if (!ok || !robot || robot.disabled || (robot.expiresAt && Date.parse(robot.expiresAt) < Date.now())) return undefined;
      return { kind: 'robot', name, permissions: robot.permissions };
    }
    const user = state.users.find((u) => u.name === name);
    if (!(await this.check(name, password, user?.passwordHash)) || !user) return undefined;
    return { kind: 'user', name, admin: user.admin };
  }

  private async check(name: string, password: string, hash: string | undefined): Promise<boolean> {
    // An unknown name costs a bcrypt too, so timing does not tell which names exist.
    if (!hash) {
      await verifyPassword(password, DUMMY_HASH);
      return false;
    }
    if (this.verified.has(name, password, hash)) return true;
    // Fifty clients logging in with the same credentials at once share one bcrypt.
    const key = this.verified.keyOf(name, password, hash);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = verifyPassword(password, hash).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const ok = await pending;
    if (ok) this.verified.add(name, password, hash);
    return ok;
  }
}

export type { RegistryAction };
