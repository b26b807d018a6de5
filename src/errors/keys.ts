/** Keyrings, key selection and passphrases. */
import { ChartprovError } from './base.js';

export class KeyringError extends ChartprovError {
  readonly code = 'KEYRING_UNREADABLE';
  protected get defaultHint(): string {
    return 'export the keyring again, e.g. gpg --export > pubring.gpg';
  }
}

export class KeyNotFoundError extends ChartprovError {
  readonly code = 'KEY_NOT_FOUND';
  protected get defaultHint(): string {
    return 'see the keys with chartprov keys list --keyring FILE; --key takes a user id, key id or fingerprint';
  }
}

export class KeyAmbiguousError extends ChartprovError {
  readonly code = 'KEY_AMBIGUOUS';
  protected get defaultHint(): string {
    return 'pass --key with the full user id or the fingerprint';
  }
}

export class KeyExpiredError extends ChartprovError {
  readonly code = 'KEY_EXPIRED';
  protected get defaultHint(): string {
    return 'extend the key (gpg --quick-set-expire FINGERPRINT 1y) and export it again, or use another key';
  }
}

export class KeyRevokedError extends ChartprovError {
  readonly code = 'KEY_REVOKED';
  protected get defaultHint(): string {
    return 'use another key';
  }
}

/** The key has no usable signing capability (neither primary nor a subkey). */
export class KeyCannotSignError extends ChartprovError {
  readonly code = 'KEY_CANNOT_SIGN';
  protected get defaultHint(): string {
    return 'add a signing subkey (gpg --quick-add-key FINGERPRINT ed25519 sign) or use another key';
  }
}

export class PassphraseRequiredError extends ChartprovError {
  readonly code = 'PASSPHRASE_REQUIRED';
  protected get defaultHint(): string {
    return 'pass --passphrase-file FILE (- for stdin), set CHARTPROV_PASSPHRASE, or run on a terminal to be asked';
  }
}

export class PassphraseWrongError extends ChartprovError {
  readonly code = 'PASSPHRASE_WRONG';
  protected get defaultHint(): string {
    return 'check the passphrase; a passphrase file holds it on its first line';
  }
}
