/**
 * A private folder inside the destination for work that must appear all at
 * once or not at all (a signed pair, a verified pull). It is removed when the
 * work ends, fails, or is interrupted (Ctrl-C during a slow signature or
 * download), so no half-made or unverified file is left behind.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { toWriteError } from './atomic-write.js';

/** Staging folders alive now; one signal handler serves them all (a batch has many at once). */
const active = new Set<string>();

function onSignal(signal: NodeJS.Signals): void {
  for (const dir of active) rmSync(dir, { recursive: true, force: true });
  process.kill(process.pid, signal);
}

export async function withStagingDir<T>(destination: string, fn: (staging: string) => Promise<T>): Promise<T> {
  const staging = await mkdtemp(join(destination, '.chartprov-')).catch((err) => {
    throw toWriteError(destination, err);
  });
  if (active.size === 0) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  active.add(staging);
  try {
    return await fn(staging);
  } finally {
    active.delete(staging);
    if (active.size === 0) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    await rm(staging, { recursive: true, force: true });
  }
}
