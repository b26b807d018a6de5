// `--sign-with gpg` against the real gpg: keys only gpg-agent holds, Helm's
// key-choice rules, and each failure mapped to chartprov's error codes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { helloWorldWorkspace } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { tempGpg } from '../peers/gpg.js';
import type { Gpg } from '../peers/gpg.js';
import { runHelm } from '../peers/helm.js';
import { cliPath, keyFile } from '../peers/paths.js';

let work: string;
let chartDir: string;
helloWorldWorkspace((ws) => ({ dir: work, chartDir } = ws));
let gpg: Gpg;
let n = 0;

async function outDir(): Promise<string> {
  const d = join(work, `out-${++n}`);
  await mkdir(d);
  return d;
}

function gpgSign(out: string, extra: string[], input?: string) {
  return runCli(['package', chartDir, '-d', out, '--sign', '--sign-with', 'gpg', ...extra], { env: { GNUPGHOME: gpg.home }, input });
}

function assertError(r: { code: number; stderr: string }, code: string): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^error\\[${code}\\]: `, 'm'));
  assert.match(r.stderr, /^hint: /m);
}

before(async () => {
  gpg = await tempGpg();
  for (const who of ['john', 'sam', 'eddie', 'expired']) await gpg.ok(['--import', keyFile(`${who}-sec.asc`)]);
  await gpg.ok(['--passphrase', 'correct horse', '--import', keyFile('pat-sec.asc')]);
  // A key that can only certify: no signing key anywhere.
  await gpg.ok(['--passphrase', '', '--quick-gen-key', 'Cert Only <cert@example.com>', 'ed25519', 'cert', 'never']);
});
after(() => gpg.close());

describe('--sign-with gpg', () => {
  // Before any successful use of Pat's key: gpg-agent caches a passphrase once it has worked.
  it('PASSPHRASE_WRONG for a wrong passphrase, nothing written', async () => {
    const out = await outDir();
    assertError(await gpgSign(out, ['--key', 'Pat Phrase', '--passphrase-file', '-'], 'wrong\n'), 'PASSPHRASE_WRONG');
    assert.deepEqual(await readdir(out), []);
  });

  it('Sam (signing subkey in gpg-agent): Helm 4 verifies, and the Helm 3 warning is shown', async () => {
    const out = await outDir();
    const r = await gpgSign(out, ['--key', 'Sam Subkey', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*Helm 3 cannot read/);
    const json = JSON.parse(r.stdout);
    assert.equal(json.signer.userId, 'Sam Subkey <sam@example.com>');
    const h4 = await runHelm(4, ['verify', '--keyring', keyFile('sam-pubring.gpg'), join(out, 'hello-world-0.1.0.tgz')]);
    assert.equal(h4.code, 0, h4.stderr);
  });

  it('Pat (passphrase through loopback): Helm 3 and Helm 4 verify', async () => {
    const out = await outDir();
    const r = await gpgSign(out, ['--key', 'pat@example.com', '--passphrase-file', '-'], 'correct horse\n');
    assert.equal(r.code, 0, r.stderr);
    for (const major of [3, 4] as const) {
      const h = await runHelm(major, ['verify', '--keyring', keyFile('pat-pubring.gpg'), join(out, 'hello-world-0.1.0.tgz')]);
      assert.equal(h.code, 0, h.stderr);
    }
  });

  it('KEY_EXPIRED for an expired key', async () => {
    const out = await outDir();
    assertError(await gpgSign(out, ['--key', 'Ed Expired']), 'KEY_EXPIRED');
    assert.deepEqual(await readdir(out), []);
  });

  it('KEY_CANNOT_SIGN for a certify-only key without a signing subkey', async () => {
    assertError(await gpgSign(await outDir(), ['--key', 'Cert Only']), 'KEY_CANNOT_SIGN');
  });

  it("Helm's rules: no --key among several keys is ambiguous; matching is case-sensitive", async () => {
    assertError(await gpgSign(await outDir(), []), 'KEY_AMBIGUOUS');
    assertError(await gpgSign(await outDir(), ['--key', 'JOHN']), 'KEY_NOT_FOUND');
    assertError(await gpgSign(await outDir(), ['--key', 'example.com']), 'KEY_AMBIGUOUS');
  });

  it('GPG_FAILED when the gpg binary is missing', async () => {
    const r = await runCli(['package', chartDir, '-d', await outDir(), '--sign', '--sign-with', 'gpg', '--key', 'John'], {
      env: { GNUPGHOME: gpg.home, CHARTPROV_GPG: join(work, 'no-such-gpg') },
    });
    assertError(r, 'GPG_FAILED');
  });
});

describe('flags', () => {
  it('package --version and --app-version set the chart, and Helm sees them', async () => {
    const out = await outDir();
    const r = await runCli(['package', chartDir, '-d', out, '--version', '1.2.3', '--app-version', '4.5.6']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readdir(out), ['hello-world-1.2.3.tgz']);
    const show = await runHelm(4, ['show', 'chart', join(out, 'hello-world-1.2.3.tgz')]);
    assert.match(show.stdout, /^version: 1\.2\.3$/m);
    assert.match(show.stdout, /^appVersion: 4\.5\.6$/m);
  });

  it('chartprov --version prints the tool version', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });

  it('FILE_UNREADABLE when --prov is a folder', async () => {
    const { goldens } = await import('../peers/charts.js');
    const r = await runCli(['verify', goldens.helm3.chart, '--prov', work, '--keyring', keyFile('john-pubring.gpg')]);
    assertError(r, 'FILE_UNREADABLE');
  });

  it('FILE_UNREADABLE when --passphrase-file is a folder', async () => {
    const r = await runCli([
      'package',
      chartDir,
      '-d',
      await outDir(),
      '--sign',
      '--key',
      'Pat',
      '--keyring',
      keyFile('pat-secring.gpg'),
      '--passphrase-file',
      work,
    ]);
    assertError(r, 'FILE_UNREADABLE');
  });
});

describe('interrupted signing', () => {
  it('Ctrl-C while gpg signs leaves no staging folder and no unsigned archive', async () => {
    const out = await outDir();
    // A gpg that lists keys normally but hangs when asked to sign (a slow smartcard).
    const slowGpg = join(work, 'slow-gpg');
    await writeFile(slowGpg, '#!/bin/sh\nfor a in "$@"; do [ "$a" = --clearsign ] && exec sleep 5; done\nexec gpg "$@"\n', {
      mode: 0o755,
    });
    const child = spawn(process.execPath, [cliPath, 'package', chartDir, '-d', out, '--sign', '--sign-with', 'gpg', '--key', 'John'], {
      env: { ...process.env, GNUPGHOME: gpg.home, CHARTPROV_GPG: slowGpg },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 100 && !(await readdir(out)).some((f) => f.startsWith('.chartprov-')); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      (await readdir(out)).some((f) => f.startsWith('.chartprov-')),
      'signing had started',
    );
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    assert.equal(await exited, 'SIGINT');
    assert.deepEqual(await readdir(out), []);
  });
});
