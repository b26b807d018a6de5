/**
 * File primitives with the guarantees the registry needs: private modes,
 * temp + fsync + rename for every visible file (a kill -9 leaves the old
 * file or the new one), and fsync of the folder so a rename survives a power
 * loss too.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../fs/atomic-write.js';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Temp files as named by tempPathFor: `.<name>.<pid>.<hex>.tmp`. */
const TEMP_FILE = /^\..+\.tmp$/;
const TEMP_PID = /\.(\d+)\.[0-9a-f]+\.tmp$/;

export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** ENOSPC, or EDQUOT (a quota), anywhere in an error's cause chain (writeFileAtomic wraps its errno errors). */
export function isOutOfSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = errnoOf(e);
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** ENOENT and ENOTDIR both mean "not there" for a path built from names. */
export function isMissing(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
}

/** Makes a completed rename durable; some platforms cannot open folders, where this is best effort. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // EISDIR/EPERM on platforms without folder fsync: atomicity still holds.
  } finally {
    await fh?.close();
  }
}

/** How often a write makes its folder again after a concurrent clean-up removed it. */
const FOLDER_RETRIES = 3;

/**
 * Makes `dir`, then runs `op`, a write into it. Another request's failed
 * write removes the folder it made when it is empty, which may happen between
 * our mkdir and `op`: an ENOENT (also as the cause, as writeFileAtomic wraps
 * errno errors) makes the folder again and runs `op` again, a few times.
 */
export async function inFolder<T>(dir: string, op: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureDir(dir);
      return await op();
    } catch (err) {
      if (attempt >= FOLDER_RETRIES || !isMissing((err as { cause?: unknown }).cause ?? err)) throw err;
    }
  }
}

/** Temp file in the target's folder, fsync, rename, fsync the folder. */
export async function writeAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(target);
  try {
    await inFolder(dir, () => writeFileAtomic(target, data, FILE_MODE));
    await fsyncDir(dir);
  } catch (err) {
    // A folder made for this write (e.g. before a full disk refused it) is not left empty; one
    // holding anything stays, and a concurrent writer whose folder this removes makes it again.
    await rmdir(dir).catch(() => undefined);
    throw err;
  }
}

/**
 * Moves a complete, fsynced file into `target` unless a file is already
 * there: targets are content-addressed, so an existing one holds the same
 * bytes and is left alone. Returns whether `from` was moved (else it stays).
 */
export async function moveIntoPlace(from: string, target: string): Promise<boolean> {
  if (await isFile(target)) return false;
  const dir = dirname(target);
  await inFolder(dir, () => rename(from, target));
  await fsyncDir(dir);
  return true;
}

export async function fsyncFile(path: string): Promise<number> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? st.size : undefined;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

/** Removes a link and then its folder if that is now empty; the unlink is the atomic step readers see. */
export async function removeLink(link: string): Promise<boolean> {
  try {
    await rm(link);
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  // rmdir refuses a non-empty folder, e.g. one where a concurrent write's temp file sits.
  await rmdir(dirname(link)).catch(() => undefined);
  return true;
}

/** Streams a file through a hash: the whole blob is never in memory. */
export async function hashFile(path: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}

/** Whether a file name is one of tempPathFor's temp files, which no reader ever opens. */
export function isTempName(name: string): boolean {
  return TEMP_FILE.test(name);
}

/** The pid in a temp file's name (`.<name>.<pid>.<hex>.tmp`), if it has one. */
function tempFilePid(name: string): number | undefined {
  const m = TEMP_PID.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes temp files older than `olderThanMs` anywhere under `root`: the
 * leftovers of writes killed before their rename. Young ones may belong to
 * a write in progress, so pass a margin well above any write's duration.
 * Returns how many were removed.
 */
export async function sweepTemp(root: string, olderThanMs: number): Promise<number> {
  const cutoff = Date.now() - olderThanMs;
  return removeTempFiles(root, async (path) => {
    const st = await lstat(path).catch(() => undefined);
    return st !== undefined && st.mtimeMs <= cutoff;
  });
}

/**
 * Removes temp files under `root` that another process wrote. Only for the
 * holder of the data folder's lock: no other process writes there then, so
 * such a file belongs to a write that died with its process (kill -9, power
 * loss) and will never be renamed. Stops early when `stopped()` says so.
 */
export async function sweepTempOfOthers(root: string, stopped: () => boolean = () => false): Promise<number> {
  // Our pid on a file older than this process: an earlier process given the same pid (PID 1 in a container).
  const started = Date.now() - process.uptime() * 1000;
  return removeTempFiles(
    root,
    async (path, name) => tempFilePid(name) !== process.pid || ((await lstat(path).catch(() => undefined))?.mtimeMs ?? Infinity) < started,
    stopped,
  );
}

async function removeTempFiles(
  root: string,
  doomed: (path: string, name: string) => Promise<boolean>,
  stopped: () => boolean = () => false,
): Promise<number> {
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await listDir(dir)) {
      if (stopped()) return;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && TEMP_FILE.test(entry.name) && (await doomed(path, entry.name))) {
        await rm(path, { force: true });
        removed++;
      }
    }
  };
  await walk(root);
  return removed;
}
