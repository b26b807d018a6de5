import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { helloWorldWorkspace } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { tempGpg } from '../peers/gpg.js';
import { runHelm } from '../peers/helm.js';
import { keysDir, keyFile } from '../peers/paths.js';

let work: string;
let chartDir: string;
helloWorldWorkspace((ws) => ({ dir: work, chartDir } = ws));

describe('keys generate', () => {
  it('makes an RSA key Helm 3 and 4 sign and verify with, secret files 0600', async () => {
    const dir = join(work, 'gen-rsa');
    const r = await runCli([
      'keys',
      'generate',
      '--name',
      'Gen Rator',
      '--email',
      'gen@example.com',
      '--type',
      'rsa2048',
      '-d',
      dir,
      '-o',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.match(out.fingerprint, /^[0-9A-F]{40}$/);
    assert.equal((await stat(out.files.secring)).mode & 0o777, 0o600);
    assert.equal((await stat(out.files.privateArmored)).mode & 0o777, 0o600);
    for (const major of [3, 4] as const) {
      const dest = join(work, `gen-out-${major}`);
      const p = await runHelm(major, ['package', chartDir, '--sign', '--key', 'Gen Rator', '--keyring', out.files.secring, '-d', dest]);
      assert.equal(p.code, 0, p.stderr);
      const v = await runHelm(major, ['verify', '--keyring', out.files.pubring, join(dest, 'hello-world-0.1.0.tgz')]);
      assert.equal(v.code, 0, v.stderr);
    }
    // And gpg imports it.
    const gpg = await tempGpg();
    try {
      await gpg.ok(['--import', out.files.publicArmored]);
      assert.equal(await gpg.fingerprint('gen@example.com'), out.fingerprint);
    } finally {
      await gpg.close();
    }
  });

  it('makes a passphrase-protected Ed25519 key that signs with the passphrase only', async () => {
    const dir = join(work, 'gen-ed');
    const pass = join(work, 'gen-pass');
    await writeFile(pass, 's3cret phrase\n');
    const r = await runCli(['keys', 'generate', '--name', 'Ed Gen', '--type', 'ed25519', '--passphrase-file', pass, '-d', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('s3cret'));
    const dest = join(work, 'gen-ed-out');
    const denied = await runCli(['package', chartDir, '-d', dest, '--sign', '--keyring', join(dir, 'secring.gpg')]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /PASSPHRASE_REQUIRED/);
    const ok = await runCli(['package', chartDir, '-d', dest, '--sign', '--keyring', join(dir, 'secring.gpg'), '--passphrase-file', pass]);
    assert.equal(ok.code, 0, ok.stderr);
    const v = await runHelm(4, ['verify', '--keyring', join(dir, 'pubring.gpg'), join(dest, 'hello-world-0.1.0.tgz')]);
    assert.equal(v.code, 0, v.stderr);
  });

  it('refuses to overwrite an existing keyring', async () => {
    const dir = join(work, 'gen-twice');
    const first = await runCli(['keys', 'generate', '--name', 'Once', '--type', 'ed25519', '-d', dir]);
    assert.equal(first.code, 0, first.stderr);
    const r = await runCli(['keys', 'generate', '--name', 'Again', '--type', 'ed25519', '-d', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[USAGE\].*already exists/);
  });
});

describe('keys list and export', () => {
  it('lists every key of a gpg home with capabilities and expiry', async () => {
    const r = await runCli(['keys', 'list', '--keyring', join(keysDir, 'gnupg-home'), '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const { keys } = JSON.parse(r.stdout);
    const byEmail = (e: string) => keys.find((k: { userIds: string[] }) => k.userIds.some((u) => u.includes(e)));
    assert.equal(keys.length, 6);
    assert.equal(byEmail('sam@').capabilities.sign, false);
    assert.equal(byEmail('sam@').subkeys[0].capabilities.sign, true);
    assert.equal(byEmail('expired@').expired, true);
    assert.equal(byEmail('eddie@').helm3Compatible, false);
    const text = await runCli(['keys', 'list', '--keyring', keyFile('john-pubring.gpg')]);
    assert.match(text.stdout, /John The Signer <john@example.com>/);
  });

  it('exports a public key Helm can read as a keyring', async () => {
    const file = join(work, 'exported-john.gpg');
    const r = await runCli(['keys', 'export', 'John', '--keyring', join(keysDir, 'gnupg-home'), '--file', file]);
    assert.equal(r.code, 0, r.stderr);
    const { goldens } = await import('../peers/charts.js');
    const v = await runHelm(3, ['verify', '--keyring', file, goldens.helm3.chart]);
    assert.equal(v.code, 0, v.stderr);
  });

  it('exports an armored secret key to stdout for CHARTPROV_SIGNING_KEY', async () => {
    const r = await runCli(['keys', 'export', 'John', '--secret', '--armor', '--keyring', keyFile('john-secring.gpg')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
  });
});
