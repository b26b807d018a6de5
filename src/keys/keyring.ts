// Loads keys from every place gpg and Helm keep them. Helm reads only the
// legacy binary pubring.gpg/secring.gpg; we also read armored exports, the
// gpg 2.1+ keybox and whole gpg home folders, detecting the format from the
// bytes because file names lie (a ".gpg" is often armored, a ".asc" binary).
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readKeys, unarmor } from 'openpgp';
import type { Key, PrivateKey, PublicKey } from 'openpgp';
import { FileNotFoundError, KeyringError } from '../errors.js';
import { isKeybox, keyblocksFromKeybox } from './kbx.js';
import { keygripsOf } from './keygrip.js';
import { splitKeyblocks } from './packets.js';

export interface Keyring {
  publicKeys: PublicKey[];
  privateKeys: PrivateKey[];
  /** The files read, in order. */
  sources: string[];
  /**
   * Primary fingerprints (uppercase hex) of keys whose secret part exists only
   * in a gpg home's private-keys-v1.d (gpg-agent), so the CLI can suggest
   * `--sign-with gpg`.
   */
  agentOnlyFingerprints: string[];
  /** Keys that were skipped because openpgp cannot read them (old v3 keys, unknown algorithms). */
  warnings?: string[];
}

const FORMAT_HINT = 'pass a pubring.gpg/secring.gpg, an armored export (gpg --export --armor), a pubring.kbx or a gpg home folder';
const ARMORED_KEY = /-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP \1 KEY BLOCK-----/g;
const HOME_FILES = ['pubring.kbx', 'pubring.gpg', 'secring.gpg'];
const KEYGRIP_FILE = /^([0-9A-F]{40})\.key$/i;

interface Parsed {
  keys: Key[];
  warnings: string[];
}

/**
 * Reads every path (legacy binary keyring, armored file, keybox or gpg home
 * folder) and merges the keys by fingerprint, a private key winning over its
 * public half.
 */
export async function loadKeyring(paths: string[]): Promise<Keyring> {
  const sources: string[] = [];
  const warnings: string[] = [];
  const keygrips = new Set<string>();
  const merged = new Map<string, Key>();

  const add = async (file: string, data: Uint8Array): Promise<void> => {
    const parsed = await parseKeyringData(data, file);
    sources.push(file);
    warnings.push(...parsed.warnings);
    for (const key of parsed.keys) {
      const fpr = key.getFingerprint().toUpperCase();
      const existing = merged.get(fpr);
      merged.set(fpr, existing ? await mergeKeys(existing, key) : key);
    }
  };

  for (const path of paths) {
    const info = await stat(path).catch((err: unknown) => {
      throw accessError(path, err);
    });
    if (!info.isDirectory()) {
      await add(path, await readBytes(path));
      continue;
    }
    const files = HOME_FILES.map((name) => join(path, name)).filter((f) => existsSync(f));
    if (files.length === 0) {
      throw new KeyringError(`no keyring in folder ${path}`, {
        hint: 'a gpg home holds pubring.kbx (gpg 2.1+) or pubring.gpg; check GNUPGHOME or pass the keyring file',
      });
    }
    for (const file of files) await add(file, await readBytes(file));
    for (const grip of await agentKeygrips(path)) keygrips.add(grip);
  }

  const keys = [...merged.values()];
  const privateKeys = keys.filter((k): k is PrivateKey => k.isPrivate());
  const publicKeys = keys.map((k) => (k.isPrivate() ? k.toPublic() : (k as PublicKey)));
  const keyring: Keyring = {
    publicKeys,
    privateKeys,
    sources,
    agentOnlyFingerprints: agentOnly(keys, keygrips),
  };
  if (warnings.length > 0) keyring.warnings = warnings;
  return keyring;
}

/**
 * Helm's default keyring is $GNUPGHOME/pubring.gpg, else ~/.gnupg/pubring.gpg.
 * Modern gpg has no pubring.gpg, so we fall back to the home folder itself
 * (its pubring.kbx). A secring.gpg beside pubring.gpg is added so that a
 * gpg 1.x user can sign without naming it.
 */
export function defaultKeyringPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.GNUPGHOME || join(env.HOME || homedir(), '.gnupg');
  const pubring = join(home, 'pubring.gpg');
  if (isFile(pubring)) {
    const secring = join(home, 'secring.gpg');
    return isFile(secring) ? [pubring, secring] : [pubring];
  }
  return isFile(join(home, 'pubring.kbx')) ? [home] : [];
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Parses one keyring file's bytes, whatever its format. `label` names it in messages. */
export async function parseKeyringData(data: Uint8Array, label: string): Promise<Parsed> {
  let blocks: Uint8Array[];
  try {
    blocks = await keyblocksOf(data);
  } catch (err) {
    throw new KeyringError(`cannot read keyring ${label}: ${messageOf(err)}`, { hint: FORMAT_HINT, cause: err });
  }
  const keys: Key[] = [];
  const failures: string[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      keys.push(...(await readKeys({ binaryKeys: block })));
    } catch (err) {
      failures.push(`key #${i + 1}: ${messageOf(err)}`);
    }
  }
  if (blocks.length > 0 && keys.length === 0) {
    throw new KeyringError(`cannot read keyring ${label}: none of its ${blocks.length} key(s) is readable (${failures[0]})`, {
      hint: FORMAT_HINT,
    });
  }
  return { keys, warnings: failures.map((f) => `${label}: skipped ${f}`) };
}

const SECRET_EXPORT_HINT =
  'export the secret key with: gpg --export-secret-keys --armor FINGERPRINT (or chartprov keys export --secret --armor NAME)';

/**
 * A keyring holding the secret key(s) of one export given as text or bytes,
 * armored or binary: how CI hands over a signing key (CHARTPROV_SIGNING_KEY)
 * without a keyring file. Usually one key; when the export holds several,
 * `--key` chooses among them as in any keyring. `label` names the source in
 * messages (e.g. the variable's name; never the key material).
 */
export async function readSigningKeyFromText(data: string | Uint8Array, label: string): Promise<Keyring> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let parsed: Parsed;
  try {
    parsed = await parseKeyringData(bytes, label);
  } catch (err) {
    const why = messageOf(err).replace(`cannot read keyring ${label}: `, '');
    throw new KeyringError(`${label} is not an OpenPGP secret key: ${why}`, { hint: SECRET_EXPORT_HINT, cause: err });
  }
  const privateKeys = parsed.keys.filter((k): k is PrivateKey => k.isPrivate());
  if (privateKeys.length === 0) {
    const what = parsed.keys.length === 0 ? 'holds no key' : 'holds only public keys, no secret key';
    throw new KeyringError(`${label} ${what}`, { hint: SECRET_EXPORT_HINT });
  }
  const keyring: Keyring = {
    publicKeys: privateKeys.map((k) => k.toPublic()),
    privateKeys,
    sources: [label],
    agentOnlyFingerprints: [],
  };
  if (parsed.warnings.length > 0) keyring.warnings = parsed.warnings;
  return keyring;
}

async function keyblocksOf(data: Uint8Array): Promise<Uint8Array[]> {
  if (data.length === 0) return []; // gpg creates empty keyrings; an empty keyring is not an error
  if (isKeybox(data)) return keyblocksFromKeybox(data).flatMap(splitKeyblocks);
  // A binary packet's tag byte always has its top bit set; armor is ASCII.
  if (data[0]! & 0x80) return splitKeyblocks(data);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
  const armored = text.match(ARMORED_KEY);
  if (!armored) {
    if (text.trim() === '') return [];
    throw new KeyringError(
      text.includes('-----BEGIN PGP')
        ? 'the armored file holds no PUBLIC or PRIVATE KEY BLOCK'
        : 'not an OpenPGP keyring (no binary packets, no armored key block, no keybox header)',
    );
  }
  const blocks: Uint8Array[] = [];
  for (const block of armored) {
    const { data: bytes } = await unarmor(block);
    blocks.push(...splitKeyblocks(bytes as unknown as Uint8Array));
  }
  return blocks;
}

async function mergeKeys(existing: Key, incoming: Key): Promise<Key> {
  // update() on the private side: openpgp converts public→private itself but
  // passes its config where a date belongs on that path.
  const [dest, src] = !existing.isPrivate() && incoming.isPrivate() ? [incoming, existing] : [existing, incoming];
  try {
    return await dest.update(src as PublicKey);
  } catch {
    // Unmergeable duplicates (e.g. different subkeys of a public and a secret copy): keep the more useful one.
    return dest;
  }
}

async function agentKeygrips(home: string): Promise<string[]> {
  const names = await readdir(join(home, 'private-keys-v1.d')).catch(() => [] as string[]);
  return names.flatMap((name) => {
    const m = KEYGRIP_FILE.exec(name);
    return m ? [m[1]!.toUpperCase()] : [];
  });
}

/**
 * Public-only keys whose primary key or a subkey has its secret in the agent.
 * When a key uses a curve we cannot compute keygrips for, we cannot match it
 * exactly: it counts as agent-held if some keygrip file matched no other key.
 */
function agentOnly(keys: Key[], keygrips: Set<string>): string[] {
  if (keygrips.size === 0) return [];
  const unmatched = new Set(keygrips);
  const grips = new Map<Key, Array<string | null>>();
  for (const key of keys) {
    const g = keygripsOf(key);
    grips.set(key, g);
    for (const grip of g) if (grip) unmatched.delete(grip);
  }
  return keys
    .filter((key) => {
      if (key.isPrivate()) return false;
      const g = grips.get(key)!;
      return g.some((grip) => grip !== null && keygrips.has(grip)) || (unmatched.size > 0 && g.includes(null));
    })
    .map((key) => key.getFingerprint().toUpperCase());
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw accessError(path, err);
  }
}

function accessError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileNotFoundError(path, 'keyring', { cause: err });
  return new KeyringError(`cannot read keyring ${path}: ${messageOf(err)}`, {
    hint: code === 'EACCES' ? 'check the file permissions' : FORMAT_HINT,
    cause: err,
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
