import { join } from 'node:path';
import { extract } from 'tar';
import { sharedFixtures } from './paths.js';

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
