// Every failure a user can hit: a stable code, a one-line message, a hint,
// exit status ≠ 0, no stack trace without --debug, nothing half-written.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readPrivateKey, revokeKey } from 'openpgp';
import { goldens, helloWorldWorkspace } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { runHelm } from '../peers/helm.js';
import { keyFile } from '../peers/paths.js';

let work: string;
let chartDir: string;
helloWorldWorkspace((ws) => ({ dir: work, chartDir } = ws));
let n = 0;

async function fresh(): Promise<string> {
  const d = join(work, `case-${++n}`);
  await mkdir(d);
  return d;
}

/** A copy of the Helm 3 golden chart + prov in its own folder. */
async function goldenCopy(): Promise<{ chart: string; prov: string; dir: string }> {
  const dir = await fresh();
  const chart = join(dir, 'hello-world-0.1.0.tgz');
  await copyFile(goldens.helm3.chart, chart);
  await copyFile(goldens.helm3.prov, `${chart}.prov`);
  return { chart, prov: `${chart}.prov`, dir };
}

async function expectError(args: string[], code: string, opts: Parameters<typeof runCli>[1] = {}): Promise<{ stderr: string }> {
  const r = await runCli(args, opts);
  assert.equal(r.code, code === 'USAGE' ? 2 : 1, `exit status for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const errLine = lines.find((l) => l.startsWith('error['));
  assert.ok(errLine, `no error line in: ${r.stderr}`);
  assert.equal(
    errLine,
    lines.find((l) => l.startsWith(`error[${code}]`)),
    `expected ${code}, got: ${r.stderr}`,
  );
  assert.ok(
    lines.some((l) => l.startsWith('hint: ')),
    `no hint in: ${r.stderr}`,
  );
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace without --debug');
  return r;
}

const john = ['--key', 'John The Signer', '--keyring', keyFile('john-secring.gpg')];
const johnPub = ['--keyring', keyFile('john-pubring.gpg')];

describe('files and charts', () => {
  it('FILE_NOT_FOUND: verify a missing chart', async () => {
    await expectError(['verify', join(work, 'nope.tgz'), ...johnPub], 'FILE_NOT_FOUND');
  });
  it('FILE_NOT_FOUND: package a missing folder', async () => {
    await expectError(['package', join(work, 'nope')], 'FILE_NOT_FOUND');
  });
  it('NOT_A_CHART: package a folder without Chart.yaml', async () => {
    await expectError(['package', await fresh()], 'NOT_A_CHART');
  });
  it('NOT_A_CHART: verify a file that is not a chart archive', async () => {
    const d = await fresh();
    await writeFile(join(d, 'x.tgz'), 'not gzip at all');
    await writeFile(join(d, 'x.tgz.prov'), 'x');
    const r = await runCli(['verify', join(d, 'x.tgz'), ...johnPub]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[NOT_A_CHART\]: .*not gzip/m);
  });
  it('CHART_YAML_INVALID: a bad version names the field', async () => {
    const d = join(await fresh(), 'bad');
    await mkdir(join(d, 'templates'), { recursive: true });
    await writeFile(join(d, 'Chart.yaml'), 'apiVersion: v2\nname: bad\nversion: banana\n');
    const r = await expectError(['package', d], 'CHART_YAML_INVALID');
    assert.match(r.stderr, /version/);
  });
  it('USAGE: an unknown flag exits 2', async () => {
    const r = await runCli(['verify', '--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error\[USAGE\]/m);
  });
  it('USAGE: --prov with several charts', async () => {
    const a = await goldenCopy();
    await expectError(['verify', a.chart, a.chart, '--prov', a.prov, ...johnPub], 'USAGE');
  });
});

describe('keys', () => {
  it('KEY_NOT_FOUND', async () => {
    await expectError(
      ['package', chartDir, '-d', work, '--sign', '--key', 'Nobody', '--keyring', keyFile('john-secring.gpg')],
      'KEY_NOT_FOUND',
    );
  });
  it('KEY_AMBIGUOUS', async () => {
    await expectError(
      [
        'package',
        chartDir,
        '-d',
        work,
        '--sign',
        '--key',
        'example.com',
        '--keyring',
        keyFile('john-secring.gpg'),
        '--keyring',
        keyFile('jane-secring.gpg'),
      ],
      'KEY_AMBIGUOUS',
    );
  });
  it('KEYRING_UNREADABLE: garbage keyring', async () => {
    const d = await fresh();
    await writeFile(join(d, 'ring.gpg'), Buffer.from([0x99, 0x01, 0x02, 0x03, 0x04]));
    await expectError(['verify', goldens.helm3.chart, '--keyring', join(d, 'ring.gpg')], 'KEYRING_UNREADABLE');
  });
  it('KEYRING: a missing keyring file is FILE_NOT_FOUND', async () => {
    await expectError(['verify', goldens.helm3.chart, '--keyring', join(work, 'none.gpg')], 'FILE_NOT_FOUND');
  });
  it('PASSPHRASE_WRONG, and nothing is written', async () => {
    const out = await fresh();
    const pass = join(work, 'wrong-pass');
    await writeFile(pass, 'not it\n');
    await expectError(
      ['package', chartDir, '-d', out, '--sign', '--key', 'Pat', '--keyring', keyFile('pat-secring.gpg'), '--passphrase-file', pass],
      'PASSPHRASE_WRONG',
    );
    assert.deepEqual(await readdir(out), []);
  });
  it('PASSPHRASE_REQUIRED without a TTY, file or env', async () => {
    const out = await fresh();
    await expectError(
      ['package', chartDir, '-d', out, '--sign', '--key', 'Pat', '--keyring', keyFile('pat-secring.gpg')],
      'PASSPHRASE_REQUIRED',
    );
    assert.deepEqual(await readdir(out), []);
  });
  it('KEY_EXPIRED when signing with an expired key', async () => {
    const out = await fresh();
    await expectError(
      ['package', chartDir, '-d', out, '--sign', '--key', 'Ed Expired', '--keyring', keyFile('expired-secring.gpg')],
      'KEY_EXPIRED',
    );
    assert.deepEqual(await readdir(out), []);
  });
  it('KEY_EXPIRED when verifying a prov Helm 3 made with an expired key (Helm 3 accepts it)', async () => {
    const out = await fresh();
    const h = await runHelm(3, [
      'package',
      chartDir,
      '--sign',
      '--key',
      'Ed Expired',
      '--keyring',
      keyFile('expired-secring.gpg'),
      '-d',
      out,
    ]);
    assert.equal(h.code, 0, h.stderr);
    const chart = join(out, 'hello-world-0.1.0.tgz');
    const h3 = await runHelm(3, ['verify', '--keyring', keyFile('expired-pubring.gpg'), chart]);
    assert.equal(h3.code, 0, 'Helm 3 accepts expired keys (measured)');
    await expectError(['verify', chart, '--keyring', keyFile('expired-pubring.gpg')], 'KEY_EXPIRED');
  });
  it('KEY_REVOKED when signing with, or verifying against, a revoked key', async () => {
    const d = await fresh();
    const key = await readPrivateKey({ armoredKey: await readFile(keyFile('jane-sec.asc'), 'utf8') });
    const { privateKey, publicKey } = await revokeKey({ key, format: 'binary' });
    await writeFile(join(d, 'revoked-sec.gpg'), privateKey);
    await writeFile(join(d, 'revoked-pub.gpg'), publicKey);
    const out = await fresh();
    await expectError(['package', chartDir, '-d', out, '--sign', '--key', 'Jane', '--keyring', join(d, 'revoked-sec.gpg')], 'KEY_REVOKED');
    // A prov Jane made before the revocation no longer verifies.
    const signed = await fresh();
    const ok = await runCli(['package', chartDir, '-d', signed, '--sign', '--key', 'Jane', '--keyring', keyFile('jane-secring.gpg')]);
    assert.equal(ok.code, 0, ok.stderr);
    await expectError(['verify', join(signed, 'hello-world-0.1.0.tgz'), '--keyring', join(d, 'revoked-pub.gpg')], 'KEY_REVOKED');
  });
});

describe('charts and provs that do not verify', () => {
  it('PROV_MISSING', async () => {
    const a = await goldenCopy();
    await rm(a.prov);
    await expectError(['verify', a.chart, ...johnPub], 'PROV_MISSING');
  });
  it('CHART_ARCHIVE_INVALID: one byte changed in the archive', async () => {
    const a = await goldenCopy();
    const bytes = await readFile(a.chart);
    bytes[bytes.length - 10] ^= 0xff;
    await writeFile(a.chart, bytes);
    const r = await runCli(['verify', a.chart, ...johnPub]);
    assert.equal(r.code, 1);
    // The flipped byte breaks the deflate stream: refused before any digest is compared.
    assert.match(r.stderr, /^error\[CHART_ARCHIVE_INVALID\]/m);
  });
  it('CHART_TAMPERED: a different but valid archive under the signed name', async () => {
    const a = await goldenCopy();
    const out = await fresh();
    const p = await runCli(['package', chartDir, '-d', out, '--app-version', '9.9.9']);
    assert.equal(p.code, 0, p.stderr);
    await copyFile(join(out, 'hello-world-0.1.0.tgz'), a.chart);
    await expectError(['verify', a.chart, ...johnPub], 'CHART_TAMPERED');
  });
  it('SIGNATURE_INVALID: the signed text was edited', async () => {
    const a = await goldenCopy();
    const text = await readFile(a.prov, 'utf8');
    await writeFile(a.prov, text.replace('A Helm chart for Kubernetes', 'A Helm chart for Kubernetez'));
    await expectError(['verify', a.chart, ...johnPub], 'SIGNATURE_INVALID');
  });
  it('PROV_INVALID: a truncated prov', async () => {
    const a = await goldenCopy();
    const text = await readFile(a.prov, 'utf8');
    await writeFile(a.prov, text.slice(0, Math.floor(text.length / 2)));
    await expectError(['verify', a.chart, ...johnPub], 'PROV_INVALID');
  });
  it('SIGNER_UNKNOWN: signed by a key not in the keyring', async () => {
    const a = await goldenCopy();
    await expectError(['verify', a.chart, '--keyring', keyFile('jane-pubring.gpg')], 'SIGNER_UNKNOWN');
  });
  it('PROV_MISMATCH: the archive was renamed', async () => {
    const a = await goldenCopy();
    const renamed = join(a.dir, 'hello-world-0.1.1.tgz');
    await copyFile(a.chart, renamed);
    await expectError(['verify', renamed, '--prov', a.prov, ...johnPub], 'PROV_MISMATCH');
  });
  it('--output json puts the error on stdout', async () => {
    const a = await goldenCopy();
    await rm(a.prov);
    const r = await runCli(['verify', a.chart, ...johnPub, '-o', 'json']);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout);
    assert.equal(json.results[0].error.code, 'PROV_MISSING');
  });
  it('--debug prints the stack', async () => {
    const r = await runCli(['--debug', 'package', join(work, 'nope')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^\s+at /m);
  });
});

describe('nothing half-written', () => {
  it('package --sign creates a missing destination folder, as helm does', async () => {
    const dest = join(work, 'no', 'such');
    const r = await runCli(['package', chartDir, '-d', dest, '--sign', ...john]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(dest)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
  });
  it('FILE_WRITE_FAILED: a destination that is a file', async () => {
    const file = join(await fresh(), 'a-file');
    await writeFile(file, 'x');
    await expectError(['package', chartDir, '-d', file, '--sign', ...john], 'FILE_WRITE_FAILED');
  });
  it('package --sign replaces an existing pair only when both are ready', async () => {
    const out = await fresh();
    const first = await runCli(['package', chartDir, '-d', out, '--sign', ...john]);
    assert.equal(first.code, 0, first.stderr);
    const before = await readFile(join(out, 'hello-world-0.1.0.tgz.prov'), 'utf8');
    const pass = join(work, 'wrong-pass-2');
    await writeFile(pass, 'nope\n');
    await expectError(
      ['package', chartDir, '-d', out, '--sign', '--key', 'Pat', '--keyring', keyFile('pat-secring.gpg'), '--passphrase-file', pass],
      'PASSPHRASE_WRONG',
    );
    assert.deepEqual((await readdir(out)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
    assert.equal(await readFile(join(out, 'hello-world-0.1.0.tgz.prov'), 'utf8'), before);
    const v = await runCli(['verify', join(out, 'hello-world-0.1.0.tgz'), ...johnPub]);
    assert.equal(v.code, 0, v.stderr);
  });
});

describe('more things a user can get wrong', () => {
  it('package --sign never replaces a folder that has the archive name', async () => {
    const out = await fresh();
    await mkdir(join(out, 'hello-world-0.1.0.tgz.prov'));
    await writeFile(join(out, 'hello-world-0.1.0.tgz.prov', 'important.txt'), 'keep me');
    await expectError(['package', chartDir, '-d', out, '--sign', ...john], 'FILE_WRITE_FAILED');
    assert.equal(await readFile(join(out, 'hello-world-0.1.0.tgz.prov', 'important.txt'), 'utf8'), 'keep me');
    assert.deepEqual(await readdir(out), ['hello-world-0.1.0.tgz.prov']);
  });
  it('keys generate refuses an empty passphrase instead of making an unprotected key', async () => {
    const pass = join(await fresh(), 'empty');
    await writeFile(pass, '\n');
    const dir = join(work, 'gen-empty');
    await expectError(['keys', 'generate', '--name', 'X', '--type', 'ed25519', '--passphrase-file', pass, '-d', dir], 'USAGE');
    await expectError(
      ['keys', 'generate', '--name', 'X', '--type', 'ed25519', '--passphrase-file', pass, '--no-passphrase', '-d', dir],
      'USAGE',
    );
  });
  it('a passphrase file may be a pipe, as with `--passphrase-file <(pass show key)`', async () => {
    const out = await fresh();
    const fifo = join(out, '..', `pass-fifo-${n}`);
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `printf 'correct horse\\n' > '${fifo}'`]);
    const r = await runCli([
      'package',
      chartDir,
      '-d',
      out,
      '--sign',
      '--key',
      'Pat',
      '--keyring',
      keyFile('pat-secring.gpg'),
      '--passphrase-file',
      fifo,
    ]);
    writer.kill();
    assert.equal(r.code, 0, r.stderr);
  });
  it('a .prov that is a FIFO is refused, not waited on', async () => {
    const a = await goldenCopy();
    await rm(a.prov);
    execFileSync('mkfifo', [a.prov]);
    await expectError(['verify', a.chart, ...johnPub], 'FILE_UNREADABLE');
  });
});
