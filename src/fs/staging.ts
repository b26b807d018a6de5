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

export async function withStagingDir<T>(destination: string, fn: (staging: string) => Promise<T>): Promise<T> {
  const staging = await mkdtemp(join(destination, '.chartprov-')).catch((err) => {
    throw toWriteError(destination, err);
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    rmSync(staging, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(staging);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await rm(staging, { recursive: true, force: true });
  }
}
