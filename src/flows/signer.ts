// Turns the user's signing options into one "signer": a function that
// clearsigns a provenance text, plus the public key to check the result with.
// The key is resolved and unlocked before any file is written, so a wrong
// passphrase or an expired key costs nothing.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readKeys } from 'openpgp';
import type { PublicKey } from 'openpgp';
import { GpgError, UsageError } from '../errors.js';
import {
  isHelm3Compatible,
  isKeyEncrypted,
  primaryUserId,
  loadKeyring,
  readSigningKeyFromText,
  selectSigningKey,
  unlockKey,
} from '../keys/index.js';
import type { Keyring } from '../keys/index.js';
import { parseProvenance, signProvenanceText, verifyProvenance } from '../provenance/index.js';
import type { SignerInfo } from '../provenance/index.js';

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
}

export interface Signer {
  identity: SignerIdentity;
  /** Clearsigns the provenance message; returns the whole .prov text. */
  sign(text: string): Promise<string>;
  /** The signer's public key(s), to check each signature before it is written. */
  publicKeys(): Promise<PublicKey[]>;
  /**
   * Set when chartprov itself signs (openpgp): what `verify` will report for a
   * signature made at `signedAt`. Such signatures need no check; one made by an
   * outside program (gpg) is verified before it is written.
   */
  ownSignature?: { info(signedAt: Date): SignerInfo; sign(text: string, signedAt: Date): Promise<string> };
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

const HELM3_WARNING = (fpr: string, algo: string) =>
  `key ${fpr} is ${algo}: Helm 4 verifies its signatures, Helm 3 cannot read this key type`;

async function resolvePassphrase(source: PassphraseSource | undefined): Promise<string | undefined> {
  return typeof source === 'function' ? source() : source;
}

async function createGpgSigner(opts: SignerOptions): Promise<Signer> {
  // Loaded only here: child_process (and with it net, dgram) costs start-up time.
  const { exportGpgPublicKey, findGpgSecretKey, gpgClearsign } = await import('./gpg-signer.js');
  const gpgOpts = { keyName: opts.keyName, homedir: opts.gpgHome };
  const key = await findGpgSecretKey(gpgOpts);
  const passphrase = typeof opts.passphrase === 'string' ? opts.passphrase : undefined;
  const EDDSA = 22;
  return {
    identity: { userId: key.userId, fingerprint: key.fingerprint },
    warnings: key.algorithms.includes(EDDSA) ? [HELM3_WARNING(key.fingerprint, 'EdDSA')] : [],
    sign: (text) => gpgClearsign(text, { ...gpgOpts, fingerprint: key.fingerprint, passphrase }),
    publicKeys: async () => readKeys({ armoredKeys: await exportGpgPublicKey(gpgOpts, key.fingerprint) }),
  };
}

export async function createSigner(opts: SignerOptions = {}): Promise<Signer> {
  const env = opts.env ?? process.env;
  if (opts.signWith === 'gpg') return createGpgSigner(opts);

  let keyring: Keyring;
  const armored = opts.armoredKey ?? (opts.keyrings?.length ? undefined : env.CHARTPROV_SIGNING_KEY);
  if (armored) {
    keyring = await readSigningKeyFromText(armored, 'CHARTPROV_SIGNING_KEY');
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
  // verify names a signer by the key's primary user id, whichever one --key matched.
  const userId = await primaryUserId(selected.key);
  const warnings = [...(keyring.warnings ?? [])];
  if (!isHelm3Compatible(selected.key)) warnings.push(HELM3_WARNING(selected.fingerprint, selected.algorithm));
  const signAt = (text: string, signedAt: Date) =>
    signProvenanceText(text, unlocked, { signingKeyId: selected.signingKeyId, date: signedAt });
  return {
    identity: { userId, fingerprint: selected.fingerprint },
    warnings,
    sign: (text) => signAt(text, new Date()),
    publicKeys: async () => [selected.key.toPublic()],
    ownSignature: {
      sign: signAt,
      info: (signedAt) => ({
        keyId: selected.signingKeyId,
        fingerprint: selected.fingerprint,
        userId,
        signedAt: signedAt.toISOString(),
        hashAlgorithm: 'SHA512',
        algorithm: selected.algorithm,
      }),
    },
  };
}

/**
 * Signs a provenance message. What an outside program (gpg) returns is
 * checked before anyone writes it: the signature verifies with the signer's
 * public key and the signed text is exactly the message (a gpg we do not
 * control could add or alter lines).
 * Returns the .prov and the signer as `verify` would report it.
 */
export async function signAndCheck(
  signer: Signer,
  message: string,
  fileName: string,
  sha256: string,
): Promise<{ prov: string; signer: SignerInfo }> {
  if (signer.ownSignature) {
    // OpenPGP signature times have whole seconds; report exactly what is stored.
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    return { prov: await signer.ownSignature.sign(message, signedAt), signer: signer.ownSignature.info(signedAt) };
  }
  const prov = await signer.sign(message);
  const parsed = parseProvenance(prov);
  if (parsed.signedText.replace(/\n+$/, '') !== message.replace(/\n+$/, '')) {
    throw new GpgError('the signer changed the text it was asked to sign', {
      hint: 'check the gpg configuration (e.g. a comment or charset option)',
    });
  }
  const checked = await verifyProvenance({ provenance: parsed, fileName, sha256, keys: await signer.publicKeys() });
  return { prov, signer: checked.signer };
}
