/**
 * The registry credentials chartprov shares with Helm and Docker: a user
 * logged in with `helm registry login` (or `docker login`) is logged in for
 * chartprov, and the other way round. Lookup and storage follow oras-go v2's
 * credentials package as Helm 4 configures it (Helm's file first, Docker's
 * as a read-only fallback; within a file a helper, if one is named, else the
 * `auths` entry).
 */
import { mkdir, realpath } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CredentialsError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { authFor, helperFor, loadRegistryConfig, withAuth, withoutAuth } from './config-file.js';
import { helperCommand, helperErase, helperGet, helperStore, type HelperOptions } from './helper.js';
import { normalizeRegistryHost } from './host.js';
import { defaultDockerConfigPath, defaultHelmConfigPath } from './paths.js';
import { isEmptyCredential, type FoundCredential, type RegistryCredential } from './types.js';

export interface CredentialStoreOptions {
  /** Where CHARTPROV_USERNAME/PASSWORD, config locations and the helpers' PATH come from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: Helm's rule, see defaultHelmConfigPath. */
  helmConfigPath?: string;
  /** Default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string;
  /**
   * The registries CHARTPROV_USERNAME/CHARTPROV_PASSWORD are for. Default:
   * CHARTPROV_REGISTRY (comma-separated) when set, else none — a password in
   * the environment never goes to a registry nobody named (a public registry,
   * or one a redirect or a batch reaches). The CLI passes the registries its
   * command addresses.
   */
  envRegistries?: readonly string[];
  /** How long a docker-credential-* helper may take; default 60 s (some ask for a passphrase). */
  helperTimeoutMs?: number;
}

export const ENV_SOURCE = 'CHARTPROV_USERNAME/CHARTPROV_PASSWORD';

export class CredentialStore {
  readonly helmConfigPath: string;
  readonly dockerConfigPath: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly helper: HelperOptions;

  constructor(opts: CredentialStoreOptions = {}) {
    this.env = opts.env ?? process.env;
    this.helmConfigPath = opts.helmConfigPath ?? defaultHelmConfigPath(this.env);
    this.dockerConfigPath = opts.dockerConfigPath ?? defaultDockerConfigPath(this.env);
    this.helper = { env: this.env, timeoutMs: opts.helperTimeoutMs ?? 60_000 };
    const named = this.env.CHARTPROV_REGISTRY?.split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    this.envRegistries = new Set((named?.length ? named : (opts.envRegistries ?? [])).map((h) => normalizeRegistryHost(h)));
  }

  private readonly envRegistries: Set<string>;

  /** The credential for a registry host, or undefined when none of the places has one. */
  async get(host: string): Promise<FoundCredential | undefined> {
    const key = normalizeRegistryHost(host);
    const { CHARTPROV_USERNAME: username, CHARTPROV_PASSWORD: password } = this.env;
    if (username && password && this.envRegistries.has(key)) return { credential: { username, password }, source: ENV_SOURCE };
    for (const path of this.readPaths()) {
      const found = await this.getFromFile(path, key);
      if (found) return found;
    }
    return undefined;
  }

  /** Stores a credential where Helm would: the helper Helm's config names for the host, else Helm's file. */
  async save(host: string, credential: RegistryCredential): Promise<{ source: string }> {
    const key = normalizeRegistryHost(host);
    if (isEmptyCredential(credential)) {
      throw new CredentialsError(`no credential to save for ${key}`, { hint: 'give a user name and password, or a token' });
    }
    const config = await loadRegistryConfig(this.helmConfigPath);
    const helper = helperFor(config, key);
    if (helper) {
      if (!credential.identityToken && !credential.username && !credential.password) {
        throw new CredentialsError(`${helperCommand(helper)} can only store a user name and password or an identity token`, {
          hint: `remove ${key} from credsStore/credHelpers in ${this.helmConfigPath} to keep a registry token in the file`,
        });
      }
      await helperStore(helper, key, credential, this.helper);
      return { source: helperCommand(helper) };
    }
    // The file keeps base64(user:password): a colon in the user name would move the split.
    if (credential.username?.includes(':')) {
      throw new CredentialsError(`cannot save the credential for ${key}: the user name contains a colon`, {
        hint: 'registry user names cannot contain ":"; check the user name',
      });
    }
    await this.writeHelmConfig(withAuth(config, key, credential));
    return { source: this.helmConfigPath };
  }

  /**
   * Forgets the credential for a host in Helm's file (every entry that stands
   * for it) or its helper; true if there was one. Docker's file is only
   * read, as Helm does: a credential found there survives.
   */
  async erase(host: string): Promise<boolean> {
    const key = normalizeRegistryHost(host);
    const config = await loadRegistryConfig(this.helmConfigPath);
    const helper = helperFor(config, key);
    if (helper) return helperErase(helper, key, this.helper);
    const text = withoutAuth(config, key);
    if (text === undefined) return false;
    await this.writeHelmConfig(text);
    return true;
  }

  // Helm's file, then Docker's unless it is the same file (HELM_REGISTRY_CONFIG=~/.docker/config.json is common).
  private readPaths(): string[] {
    const helm = this.helmConfigPath;
    return resolve(helm) === resolve(this.dockerConfigPath) ? [helm] : [helm, this.dockerConfigPath];
  }

  private async getFromFile(path: string, key: string): Promise<FoundCredential | undefined> {
    const config = await loadRegistryConfig(path);
    const helper = helperFor(config, key);
    if (helper) {
      // As in Docker and oras-go, a named helper replaces the file's auths for this host: no fallback to them.
      const credential = await helperGet(helper, key, this.helper);
      return credential && !isEmptyCredential(credential) ? { credential, source: helperCommand(helper) } : undefined;
    }
    const credential = authFor(config, key);
    return credential ? { credential, source: path } : undefined;
  }

  private async writeHelmConfig(text: string): Promise<void> {
    const path = this.helmConfigPath;
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Write through a symlink, as Docker does, so a config kept in a dotfiles repository stays linked.
      const target = await realpath(path).catch(() => path);
      await writeFileAtomic(target, text, 0o600);
    } catch (err) {
      throw new CredentialsError(`cannot write registry config ${path}`, {
        hint: 'check that its folder is writable, or set HELM_REGISTRY_CONFIG to another file',
        cause: err,
      });
    }
  }
}
