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
    keyrings: flags.keyring,
    signWith: flags.signWith,
    passphrase: await passphraseFromOptions(flags),
    gpgHome: flags.signWith === 'gpg' && flags.keyring?.length === 1 ? flags.keyring[0] : undefined,
  };
}
