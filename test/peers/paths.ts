import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled tests live in dist/test/peers; the repository is three levels up.
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const sharedFixtures = join(repoRoot, '..', 'shared', 'fixtures');
export const keysDir = join(sharedFixtures, 'keys');
export const cliPath = join(repoRoot, 'bin', 'chartprov.cjs');
/** The `chartprov` command as npm links it (a sh launcher in front of cliPath). */
export const launcherPath = join(repoRoot, 'bin', 'chartprov');

export function keyFile(name: string): string {
  return join(keysDir, name);
}
