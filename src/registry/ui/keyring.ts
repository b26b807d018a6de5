/**
 * The keyring the web UI verifies signatures against, configured by the
 * admin (`chartprov serve --keyring FILE`). Read once at start, so a wrong
 * path stops the server before it serves; read again when the file changes,
 * so adding a signer's key needs no restart. A file that became unreadable
 * keeps the keys read last.
 */
import { stat } from 'node:fs/promises';
import type { PublicKey } from 'openpgp';
import { loadKeyring } from '../../keys/keyring.js';

export class UiKeyring {
  private keys: PublicKey[] = [];
  private stamp = '';

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<UiKeyring> {
    const keyring = new UiKeyring(path);
    keyring.keys = (await loadKeyring([path])).publicKeys;
    keyring.stamp = await stampOf(path);
    return keyring;
  }

  /** The keys as the file holds them now. */
  async current(): Promise<PublicKey[]> {
    return (await this.snapshot()).keys;
  }

  /** The keys as the file holds them now, and the stamp (inode, mtime, size) of the file they were read from. */
  async snapshot(): Promise<{ keys: PublicKey[]; stamp: string }> {
    const stamp = await stampOf(this.path).catch(() => this.stamp);
    if (stamp !== this.stamp) {
      try {
        this.keys = (await loadKeyring([this.path])).publicKeys;
        this.stamp = stamp;
      } catch {
        // Half-written or removed: keep what was read last rather than showing every signature as unknown.
      }
    }
    return { keys: this.keys, stamp: this.stamp };
  }
}

async function stampOf(path: string): Promise<string> {
  const st = await stat(path, { bigint: true });
  return `${st.ino}:${st.mtimeNs}:${st.size}`;
}
