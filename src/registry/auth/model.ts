/**
 * Who may do what in the embedded registry, modelled on Harbor: repositories
 * live in projects; users hold a role per project; robot accounts carry
 * their own per-project permissions; a system admin may do anything.
 */

/** Harbor's project roles, by the names its API uses. */
export type ProjectRole = 'projectAdmin' | 'maintainer' | 'developer' | 'guest' | 'limitedGuest';

export const PROJECT_ROLES: readonly ProjectRole[] = ['projectAdmin', 'maintainer', 'developer', 'guest', 'limitedGuest'];

/** Harbor's numeric role ids (`role_id` in its member API). */
export const ROLE_IDS: Record<ProjectRole, number> = {
  projectAdmin: 1,
  developer: 2,
  guest: 3,
  maintainer: 4,
  limitedGuest: 5,
};

/** Registry actions each role grants, as the token service puts them in `access`. */
export const ROLE_ACTIONS: Record<ProjectRole, readonly RegistryAction[]> = {
  projectAdmin: ['pull', 'push', 'delete'],
  maintainer: ['pull', 'push', 'delete'],
  developer: ['pull', 'push'],
  guest: ['pull'],
  limitedGuest: ['pull'],
};

export type RegistryAction = 'pull' | 'push' | 'delete';

export interface UserRecord {
  id: number;
  name: string;
  /** bcrypt hash ($2b$…); the password itself is never stored. */
  passwordHash: string;
  admin: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface MemberRecord {
  user: string;
  role: ProjectRole;
}

export interface ProjectRecord {
  id: number;
  name: string;
  /** Anyone, even anonymous, may pull. */
  public: boolean;
  members: MemberRecord[];
  createdAt: string;
  updatedAt: string;
}

export interface RobotPermission {
  /** A project name, or `*` for every project. */
  project: string;
  actions: RegistryAction[];
}

export interface RobotRecord {
  id: number;
  /** Full account name as clients send it: `robot$<name>`. */
  name: string;
  description?: string;
  /** bcrypt hash of the secret. */
  secretHash: string;
  permissions: RobotPermission[];
  /** ISO time after which the robot cannot log in; absent = never. */
  expiresAt?: string;
  disabled: boolean;
  createdAt: string;
}

/** Everything the registry knows about accounts, one JSON file. */
export interface AccountsState {
  version: 1;
  nextId: number;
  users: UserRecord[];
  projects: ProjectRecord[];
  robots: RobotRecord[];
}

export function emptyAccounts(): AccountsState {
  return { version: 1, nextId: 1, users: [], projects: [], robots: [] };
}

/** Whoever made a request: a user, a robot, or nobody. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; name: string; admin: boolean }
  | { kind: 'robot'; name: string; permissions: RobotPermission[] };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** `sub` of a token; empty for anonymous, as Harbor and Docker Hub do. */
export function subjectOf(p: Principal): string {
  return p.kind === 'anonymous' ? '' : p.name;
}

export const ROBOT_PREFIX = 'robot$';
