/**
 * The accounts file, shared by the running server and `chartprov serve
 * user|project|robot` commands in other processes: every change is a
 * read-modify-write under a lock file and lands by atomic rename; readers
 * notice a new file by its inode/mtime and reload it.
 */
import { statSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServeConfigError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { emptyAccounts, type AccountsState } from './model.js';

const FILE = 'accounts.json';
const LOCK = 'accounts.lock';
// A change takes milliseconds (bcrypt happens before the lock is taken); a
// lock older than this belongs to a process that died holding it.
const STALE_LOCK_MS = 10_000;
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
      const draft = parseAccounts(await readFile(this.file, 'utf8').catch(() => JSON.stringify(emptyAccounts())), this.file);
      const result = change(draft);
      await writeFileAtomic(this.file, `${JSON.stringify(draft, null, 2)}\n`, 0o600);
      return result;
    } finally {
      await release();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const path = join(this.dir, LOCK);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fh = await open(path, 'wx', 0o600);
        await fh.writeFile(String(process.pid));
        await fh.close();
        return () => rm(path, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const st = await stat(path).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new ServeConfigError(`the accounts file is locked by another process (${path})`, {
          hint: 'wait for the other chartprov serve command to finish, or remove the lock file if no such process runs',
        });
      await sleep(10 + Math.random() * 20);
    }
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
