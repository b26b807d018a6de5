import { lstat, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileWriteError } from '../errors.js';
import { toWriteError } from './atomic-write.js';

/**
 * Moves files into place all or nothing: what they replace is set aside first
 * and put back if any move fails. The set-aside copies sit beside their
 * targets, not in a staging folder, so an interruption that wipes that folder
 * cannot take the user's previous files with it.
 */
export async function movePairIn(moves: Array<[from: string, to: string]>): Promise<void> {
  const restored: Array<[backup: string, target: string]> = [];
  const placed: string[] = [];
  try {
    for (const [i, [, to]] of moves.entries()) {
      const existing = await lstat(to).catch(() => undefined);
      if (!existing) continue;
      // Only a previous archive or prov is replaced; a folder in the way is the user's data.
      if (existing.isDirectory())
        throw new FileWriteError(to, { hint: 'a folder has the name of the file to write; move it away or choose another -d' });
      const backup = join(dirname(to), `.${basename(to)}.chartprov-previous-${process.pid}-${i}`);
      await rename(to, backup);
      restored.push([backup, to]);
    }
    for (const [from, to] of moves) {
      await rename(from, to);
      placed.push(to);
    }
    await Promise.all(restored.map(([backup]) => rm(backup, { force: true })));
  } catch (err) {
    await Promise.all(placed.map((p) => rm(p, { force: true })));
    for (const [backup, target] of restored) await rename(backup, target).catch(() => undefined);
    throw toWriteError(moves[0]![1], err);
  }
}
