/**
 * One process at a time owns a registry's data folder: a server, or a gc.
 * A gc next to a running server would delete the blobs of a push in
 * progress (uploaded, not yet named by any manifest), which is why
 * distribution asks for read-only mode during its gc; here the two simply
 * exclude each other through `<dataDir>/.lock`.
 *
 * The lock file is created with O_EXCL and holds {pid, purpose, startedAt,
 * host}. A lock whose process is gone (kill -9, power loss) is stale and is
 * taken over; a lock from another host is never called stale, because its
 * pid means nothing here.
 */
import { readFileSync } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DataLockedError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { ensureDir, errnoOf, FILE_MODE, fsyncDir, isMissing } from './files.js';

export const LOCK_FILE = '.lock';

export interface DataLock {
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

interface LockInfo {
  pid: number;
  purpose: string;
  startedAt: string;
  host?: string;
  nonce?: string;
  /** Start time of the locking process (Linux), to tell it from a later process given the same pid. */
  processStart?: number;
}

/** What is on disk: the exact text (to compare before replacing it) and, if it parses, what it says. */
interface HeldLock {
  raw: string;
  ino: number;
  mtimeMs: number;
  info?: LockInfo;
}

// A lock is written right after its O_EXCL create; text that stays unreadable
// longer than this was left by a process killed in between.
const TORN_GRACE_MS = 1000;
const POLL_MS = 25;
// Long enough to outwait a claim torn by a contender killed mid-takeover.
const GIVE_UP_MS = 3 * TORN_GRACE_MS;

export async function acquireDataLock(dataDir: string, purpose: string): Promise<DataLock> {
  const dir = resolve(dataDir);
  await ensureDir(dir);
  const path = join(dir, LOCK_FILE);
  const start = processStart(process.pid);
  // Names this acquisition: a lock of our pid is ours only if its nonce is one we wrote (see isLive).
  const nonce = randomBytes(8).toString('hex');
  const mine = JSON.stringify({
    pid: process.pid,
    nonce,
    purpose,
    startedAt: new Date().toISOString(),
    host: hostname(),
    ...(start !== undefined ? { processStart: start } : {}),
  } satisfies LockInfo);
  ourNonces.add(nonce);
  try {
    for (const deadline = Date.now() + GIVE_UP_MS; Date.now() < deadline;) {
      if (await createExclusive(path, mine)) return ownedLock(path, mine, nonce);
      const held = await readSettledLock(path);
      if (held === undefined) continue; // released meanwhile: try the create again
      if (held.info && isLive(held.info)) throw lockedError(dir, held.info);
      if (await takeOver(path, held, mine)) return ownedLock(path, mine, nonce);
    }
  } catch (err) {
    ourNonces.delete(nonce);
    throw err;
  }
  ourNonces.delete(nonce);
  throw new DataLockedError(`registry data folder ${dir} keeps changing hands; could not lock it for ${purpose}`);
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx', FILE_MODE);
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

async function readLock(path: string): Promise<HeldLock | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  // One handle for both: the inode and the text must be of the same file.
  try {
    const { ino, mtimeMs } = await fh.stat();
    const raw = await fh.readFile('utf8');
    return { raw, ino, mtimeMs, info: parseLock(raw) };
  } finally {
    await fh.close();
  }
}

/** Waits out a lock being written between its create and its write; a lock still unreadable then is stale. */
async function readSettledLock(path: string): Promise<HeldLock | undefined> {
  for (;;) {
    const held = await readLock(path);
    if (held === undefined || held.info !== undefined || Date.now() - held.mtimeMs >= TORN_GRACE_MS) return held;
    await sleep(POLL_MS);
  }
}

function parseLock(raw: string): LockInfo | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockInfo> | null;
    if (!value || !Number.isSafeInteger(value.pid) || (value.pid as number) <= 0) return undefined;
    return {
      pid: value.pid as number,
      purpose: typeof value.purpose === 'string' ? value.purpose : 'another process',
      startedAt: typeof value.startedAt === 'string' ? value.startedAt : 'an unknown time',
      ...(typeof value.host === 'string' ? { host: value.host } : {}),
      ...(Number.isSafeInteger(value.processStart) ? { processStart: value.processStart as number } : {}),
      ...(typeof value.nonce === 'string' ? { nonce: value.nonce } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Nonces of the locks this process holds or is writing (added before the
 * file is created). A lock naming our pid with another nonce was left by an
 * earlier process: a restarted container often gets the same pid and host name.
 */
const ourNonces = new Set<string>();

function isLive(info: LockInfo): boolean {
  if (info.host !== undefined && info.host !== hostname()) return true;
  if (info.pid === process.pid) return info.nonce !== undefined && ourNonces.has(info.nonce);
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return errnoOf(err) === 'EPERM';
  }
  // The pid exists; it is the same process only if it started when the lock's did (pids get reused).
  const start = processStart(info.pid);
  return info.processStart === undefined || start === undefined || start === info.processStart;
}

/** The process's start time in clock ticks since boot (Linux /proc/PID/stat field 22), or undefined elsewhere. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces a stale lock with ours. Contenders for the same stale lock first
 * race for a claim file named after its inode (O_EXCL: one winner); the
 * winner re-reads the lock, and only if it is still that same stale one
 * renames a fresh file over it. Losers go round again and then see the
 * winner's live lock.
 */
async function takeOver(path: string, stale: HeldLock, mine: string): Promise<boolean> {
  const claim = `${path}.takeover-${stale.ino}`;
  if (!(await createExclusive(claim, String(process.pid)))) {
    await clearDeadClaim(claim);
    await sleep(POLL_MS);
    return false;
  }
  try {
    const now = await readLock(path);
    if (now === undefined || now.ino !== stale.ino || now.raw !== stale.raw) return false;
    await writeFileAtomic(path, mine, FILE_MODE);
    await fsyncDir(dirname(path));
    return true;
  } finally {
    await rm(claim, { force: true });
  }
}

/** A claim left by a contender that died mid-takeover would block every later one. */
async function clearDeadClaim(claim: string): Promise<void> {
  const [text, st] = await Promise.all([readFile(claim, 'utf8').catch(() => ''), stat(claim).catch(() => undefined)]);
  if (st === undefined) return;
  const pid = Number(text);
  const old = Date.now() - st.mtimeMs > 5 * TORN_GRACE_MS;
  // A claim of our own pid is another acquisition of this process at work, unless it is old.
  const dead =
    pid === process.pid ? old : Number.isSafeInteger(pid) && pid > 0 ? !isLive({ pid, purpose: '', startedAt: '' }) : Date.now() - st.mtimeMs > TORN_GRACE_MS;
  if (dead) await rm(claim, { force: true });
}

function ownedLock(path: string, mine: string, nonce: string): DataLock {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        // Never remove a lock that is no longer ours (e.g. taken over after we were presumed dead).
        const held = await readLock(path);
        if (held?.raw === mine) await rm(path, { force: true });
      } finally {
        // Only now: until the file is gone, it is ours and live, not a stale lock of our pid.
        ourNonces.delete(nonce);
      }
    },
  };
}

function lockedError(dir: string, info: LockInfo): DataLockedError {
  const where = info.host !== undefined && info.host !== hostname() ? ` on host ${info.host}` : '';
  return new DataLockedError(
    `registry data folder ${dir} is in use by ${info.purpose} (pid ${info.pid}${where}, since ${info.startedAt})`,
    {
      hint: `stop that process (or wait for it to finish) and try again; if it is gone for sure, remove ${join(dir, LOCK_FILE)}`,
    },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
