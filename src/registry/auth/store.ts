/**
 * The accounts file, shared by the running server and `chartprov serve
 * user|project|robot` commands in other processes: every change is a
 * read-modify-write under a lock file and lands by atomic rename; readers
 * notice a new file by its inode/mtime and reload it.
 */
import { statSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataLockedError, ServeConfigError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { acquireDataLock, LOCK_FILE } from '../storage/data-lock.js';
import { emptyAccounts, type AccountsState } from './model.js';

const FILE = 'accounts.json';
const LOCK_WAIT_MS = 15_000;

export class AccountsStore {
  private state: AccountsState | undefined;
  private stamp = '';

  constructor(readonly dir: string) {}

  static async open(dataDir: string): Promise<AccountsStore> {
    const store = new AccountsStore(join(dataDir, 'auth'));
    await mkdir(store.dir, { recursive: true, mode: 0o700 });
    store.current();
    return store;
  }

  get file(): string {
    return join(this.dir, FILE);
  }

  /** The state as on disk now; cheap when unchanged (one stat). */
  current(): AccountsState {
    const st = statSync(this.file, { throwIfNoEntry: false, bigint: true });
    if (!st) {
      this.state = emptyAccounts();
      this.stamp = '';
      return this.state;
    }
    const stamp = `${st.ino}:${st.mtimeNs}:${st.size}`;
    if (this.state && stamp === this.stamp) return this.state;
    this.state = parseAccounts(readFileSync(this.file, 'utf8'), this.file);
    this.stamp = stamp;
    return this.state;
  }

  /**
   * Applies `change` to a fresh copy of the state under the lock and saves
   * it. `change` may throw to abort (nothing is written) and returns what
   * the caller wants back.
   */
  async update<T>(change: (state: AccountsState) => T): Promise<T> {
    const release = await this.lock();
    try {
      const draft = parseAccounts(await readAccountsText(this.file), this.file);
      const result = change(draft);
      await writeFileAtomic(this.file, `${JSON.stringify(draft, null, 2)}\n`, 0o600);
      return result;
    } finally {
      await release();
    }
  }

  /**
   * The data folder's lock mechanism (O_EXCL file, stale when its process is
   * gone, race-free takeover) on the auth folder, waited for: changes take
   * milliseconds, so a held lock is soon free.
   */
  private async lock(): Promise<() => Promise<void>> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const lock = await acquireDataLock(this.dir, 'accounts update');
        return () => lock.release();
      } catch (err) {
        if (!(err instanceof DataLockedError)) throw err;
        if (Date.now() > deadline)
          throw new ServeConfigError(`the accounts file stayed locked for ${LOCK_WAIT_MS / 1000} s (${join(this.dir, LOCK_FILE)})`, {
            hint: 'another chartprov serve command is changing accounts; try again',
            cause: err,
          });
        await sleep(5 + Math.random() * 20);
      }
    }
  }
}

async function readAccountsText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    // Only a missing file means "no accounts yet"; any other error must not be saved over.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return JSON.stringify(emptyAccounts());
    throw err;
  }
}

function parseAccounts(text: string, file: string): AccountsState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ServeConfigError(`the accounts file ${file} is not valid JSON`, {
      hint: 'restore it from a backup; chartprov only ever replaces it whole',
      cause,
    });
  }
  const s = value as Partial<AccountsState>;
  if (s?.version !== 1 || !Array.isArray(s.users) || !Array.isArray(s.projects) || !Array.isArray(s.robots) || typeof s.nextId !== 'number')
    throw new ServeConfigError(`the accounts file ${file} has an unknown format`, {
      hint: 'it was written by another version of chartprov, or edited by hand',
    });
  return s as AccountsState;
}
