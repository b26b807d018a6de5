import { join } from 'node:path';
import { after, before } from 'node:test';
import { extract } from 'tar';
import { keyFile, sharedFixtures } from './paths.js';
import { tempDir } from './tmp.js';

/** Unpacks the fixture chart source (`helm create hello-world`) into `dir`; returns the chart folder. */
export async function helloWorldSource(dir: string): Promise<string> {
  await extract({ file: join(sharedFixtures, 'hello-world-src.tgz'), cwd: dir });
  return join(dir, 'hello-world');
}

export const goldens = {
  helm3: {
    chart: join(sharedFixtures, 'helm3', 'hello-world-0.1.0.tgz'),
    prov: join(sharedFixtures, 'helm3', 'hello-world-0.1.0.tgz.prov'),
  },
  helm4: {
    chart: join(sharedFixtures, 'helm4', 'hello-world-0.1.0.tgz'),
    prov: join(sharedFixtures, 'helm4', 'hello-world-0.1.0.tgz.prov'),
  },
};

/**
 * `pull REF --version 0.1.0 --verify --keyring all-pubring.gpg -d DEST …`:
 * one command line that helm and chartprov both take, for the fixture chart.
 */
export function verifiedPullArgs(ref: string, dest: string, ...extra: string[]): string[] {
  return ['pull', ref, '--version', '0.1.0', ...extra, '--verify', '--keyring', keyFile('all-pubring.gpg'), '-d', dest];
}

/**
 * A temp folder holding the hello-world chart source for a test file: made
 * before its tests, removed after them. `ready` receives the paths.
 */
export function helloWorldWorkspace(ready: (ws: { dir: string; chartDir: string }) => void): void {
  let cleanup: () => Promise<void> = async () => undefined;
  before(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    ready({ dir: t.dir, chartDir: await helloWorldSource(t.dir) });
  });
  after(() => cleanup());
}
