import { statSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { SignerOptions } from '../../flows/signer.js';
import { passphraseFromOptions } from '../passphrase.js';

export interface SigningFlags {
  key?: string;
  keyring?: string[];
  passphraseFile?: string;
  signWith?: 'openpgp' | 'gpg';
}

export async function signerOptionsFromFlags(flags: SigningFlags): Promise<SignerOptions> {
  return {
    keyName: flags.key,
    keyrings: flags.signWith === 'gpg' ? undefined : flags.keyring,
    signWith: flags.signWith,
    passphrase: await passphraseFromOptions(flags),
    gpgHome: flags.signWith === 'gpg' ? gpgHomeFromKeyrings(flags.keyring) : undefined,
  };
}

/** With `--sign-with gpg`, `--keyring` may name the gpg home folder to use. */
function gpgHomeFromKeyrings(keyrings: string[] | undefined): string | undefined {
  if (!keyrings?.length) return undefined;
  const dirs = keyrings.filter((k) => statSync(k, { throwIfNoEntry: false })?.isDirectory());
  if (dirs.length !== 1 || keyrings.length !== 1) {
    throw new UsageError('with --sign-with gpg, --keyring must be one gpg home folder', {
      hint: "omit --keyring to use gpg's default home, or set GNUPGHOME",
    });
  }
  return dirs[0];
}
