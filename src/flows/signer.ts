// Turns the user's signing options into one "signer": a function that
// clearsigns a provenance text, plus who it signs as. The key is resolved and
// unlocked before any file is written, so a wrong passphrase costs nothing.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readPrivateKey } from 'openpgp';
import type { PrivateKey } from 'openpgp';
import { KeyringError, UsageError } from '../errors.js';
import { isKeyEncrypted, loadKeyring, selectSigningKey, unlockKey } from '../keys/index.js';
import type { Keyring } from '../keys/index.js';
import { signProvenanceText } from '../provenance/index.js';
import { findGpgSecretKey, gpgClearsign } from './gpg-signer.js';

/** A passphrase, or a function asked for it only when the key is encrypted. */
export type PassphraseSource = string | (() => Promise<string | undefined>);

export interface SignerOptions {
  /** `--key NAME`: user id (exact wins, else substring), key id or fingerprint. */
  keyName?: string;
  /** Keyrings holding the secret key; default: Helm's (`~/.gnupg/secring.gpg`), then the gpg home. */
  keyrings?: string[];
  passphrase?: PassphraseSource;
  /** `openpgp` (default): chartprov signs itself; `gpg`: the gpg binary signs (agent, smartcards). */
  signWith?: 'openpgp' | 'gpg';
  /** An armored secret key (CI); default `CHARTPROV_SIGNING_KEY` when no keyring is given. */
  armoredKey?: string;
  /** For `signWith: 'gpg'`: GNUPGHOME to use. */
  gpgHome?: string;
  env?: NodeJS.ProcessEnv;
}

export interface SignerIdentity {
  userId: string;
  /** Primary key fingerprint, uppercase hex. */
  fingerprint: string;
  /** The (sub)key that makes the signature, when known before signing. */
  signingKeyId?: string;
  algorithm?: string;
}

export interface Signer {
  identity: SignerIdentity;
  /** Clearsigns the provenance message; returns the whole .prov text. */
  sign(text: string): Promise<string>;
  /** Warnings to show the user (e.g. Helm 3 cannot read this key type). */
  warnings: string[];
}

/** Helm's default secret keyring, falling back to the gpg home folder. */
export function defaultSecretKeyringPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.GNUPGHOME || join(env.HOME || homedir(), '.gnupg');
  const legacy = join(home, 'secring.gpg');
  if (existsSync(legacy)) return [legacy];
  return existsSync(home) ? [home] : [];
}

async function resolvePassphrase(source: PassphraseSource | undefined): Promise<string | undefined> {
  if (typeof source === 'function') return source();
  return source;
}

export async function createSigner(opts: SignerOptions = {}): Promise<Signer> {
  const env = opts.env ?? process.env;
  if (opts.signWith === 'gpg') {
    const identity = await findGpgSecretKey({ keyName: opts.keyName, homedir: opts.gpgHome });
    const passphrase = typeof opts.passphrase === 'string' ? opts.passphrase : undefined;
    return {
      identity,
      warnings: [],
      sign: (text) => gpgClearsign(text, { ...identity, homedir: opts.gpgHome, passphrase }),
    };
  }

  let keyring: Keyring;
  const armored = opts.armoredKey ?? (opts.keyrings?.length ? undefined : env.CHARTPROV_SIGNING_KEY);
  if (armored) {
    let key: PrivateKey;
    try {
      key = await readPrivateKey({ armoredKey: armored });
    } catch (err) {
      throw new KeyringError('CHARTPROV_SIGNING_KEY is not an armored OpenPGP secret key', {
        hint: 'export it with: chartprov keys export --secret --armor NAME',
        cause: err,
      });
    }
    keyring = { publicKeys: [key.toPublic()], privateKeys: [key], sources: ['CHARTPROV_SIGNING_KEY'], agentOnlyFingerprints: [] };
  } else {
    const paths = opts.keyrings?.length ? opts.keyrings : defaultSecretKeyringPaths(env);
    if (paths.length === 0) {
      throw new UsageError('no secret keyring given and none found in ~/.gnupg', {
        hint: 'pass --keyring FILE (e.g. secring.gpg), set CHARTPROV_SIGNING_KEY, or generate one with: chartprov keys generate',
      });
    }
    keyring = await loadKeyring(paths);
  }

  const selected = await selectSigningKey(keyring, opts.keyName);
  const unlocked = isKeyEncrypted(selected.key) ? await unlockKey(selected.key, await resolvePassphrase(opts.passphrase)) : selected.key;
  const warnings: string[] = [];
  if (!/^rsa|^dsa/i.test(selected.algorithm)) {
    warnings.push(`key ${selected.fingerprint} is ${selected.algorithm}: Helm 4 verifies it, Helm 3 cannot read this key type`);
  }
  return {
    identity: {
      userId: selected.userId,
      fingerprint: selected.fingerprint,
      signingKeyId: selected.signingKeyId,
      algorithm: selected.algorithm,
    },
    warnings,
    sign: (text) => signProvenanceText(text, unlocked),
  };
}
