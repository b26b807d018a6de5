// The round trip through the CLI with the real peers, both directions:
// what chartprov signs, Helm 3 and Helm 4 verify; what they sign, we verify.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { goldens, helloWorldWorkspace } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { tempGpg } from '../peers/gpg.js';
import type { Gpg } from '../peers/gpg.js';
import { runHelm } from '../peers/helm.js';
import { keyFile, keysDir } from '../peers/paths.js';

let work: string;
let chartDir: string;
helloWorldWorkspace((ws) => ({ dir: work, chartDir } = ws));
let n = 0;

/** A fresh output folder per test so parallel tests never share files. */
async function outDir(): Promise<string> {
  const d = join(work, `out-${++n}`);
  await mkdir(d);
  return d;
}

async function helmVerify(major: 3 | 4, chart: string, pubring: string) {
  return runHelm(major, ['verify', '--keyring', pubring, chart]);
}

/** Both real Helms accept the chart's .prov with the given public keyring. */
async function assertHelm3And4Verify(chart: string, pubring: string): Promise<void> {
  const [h3, h4] = await Promise.all([helmVerify(3, chart, pubring), helmVerify(4, chart, pubring)]);
  assert.equal(h3.code, 0, `helm 3: ${h3.stderr}`);
  assert.equal(h4.code, 0, `helm 4: ${h4.stderr}`);
}

describe('package --sign: Helm verifies what we sign', () => {
  it('John (RSA, no passphrase): Helm 3 and Helm 4 verify, and so do we', async () => {
    const out = await outDir();
    const r = await runCli([
      'package',
      chartDir,
      '-d',
      out,
      '--sign',
      '--key',
      'John The Signer',
      '--keyring',
      keyFile('john-secring.gpg'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const chart = join(out, 'hello-world-0.1.0.tgz');
    assert.deepEqual((await readdir(out)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
    const [h3, h4, ours] = await Promise.all([
      helmVerify(3, chart, keyFile('john-pubring.gpg')),
      helmVerify(4, chart, keyFile('john-pubring.gpg')),
      runCli(['verify', chart, '--keyring', keyFile('john-pubring.gpg'), '-o', 'json']),
    ]);
    assert.equal(h3.code, 0, h3.stderr);
    assert.match(h3.stdout, /John The Signer/);
    assert.equal(h4.code, 0, h4.stderr);
    assert.equal(ours.code, 0, ours.stderr);
    const json = JSON.parse(ours.stdout);
    assert.equal(json.verified, 1);
    assert.equal(json.results[0].signer.userId, 'John The Signer <john@example.com>');
    assert.equal(json.results[0].signer.hashAlgorithm, 'SHA512');
  });

  for (const how of ['file', 'stdin', 'env'] as const) {
    it(`Pat (passphrase by ${how}): Helm 3 and Helm 4 verify`, async () => {
      const out = await outDir();
      const passFile = join(out, '..', `pat-pass-${n}`);
      await writeFile(passFile, 'correct horse\n');
      const args = ['package', chartDir, '-d', out, '--sign', '--key', 'Pat Phrase', '--keyring', keyFile('pat-secring.gpg')];
      const r =
        how === 'file'
          ? await runCli([...args, '--passphrase-file', passFile])
          : how === 'stdin'
            ? await runCli([...args, '--passphrase-file', '-'], { input: 'correct horse\n' })
            : await runCli(args, { env: { CHARTPROV_PASSPHRASE: 'correct horse' } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes('correct horse') && !r.stderr.includes('correct horse'), 'passphrase must never be printed');
      const chart = join(out, 'hello-world-0.1.0.tgz');
      await assertHelm3And4Verify(chart, keyFile('pat-pubring.gpg'));
    });
  }

  it('Eddie (Ed25519): Helm 4 verifies; we warn that Helm 3 cannot read the key', async () => {
    const out = await outDir();
    const r = await runCli(['package', chartDir, '-d', out, '--sign', '--key', 'Eddie', '--keyring', keyFile('eddie-secring.gpg')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*Helm 3 cannot read/);
    const chart = join(out, 'hello-world-0.1.0.tgz');
    const h4 = await helmVerify(4, chart, keyFile('eddie-pubring.gpg'));
    assert.equal(h4.code, 0, h4.stderr);
    const ours = await runCli(['verify', chart, '--keyring', keyFile('eddie-pub.asc')]);
    assert.equal(ours.code, 0, ours.stderr);
  });

  it('Sam (cert-only primary): we sign with the signing subkey and Helm 4 verifies', async () => {
    const out = await outDir();
    const r = await runCli([
      'package',
      chartDir,
      '-d',
      out,
      '--sign',
      '--key',
      'sam@example.com',
      '--keyring',
      keyFile('sam-secring.gpg'),
      '-o',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const chart = join(out, 'hello-world-0.1.0.tgz');
    const h4 = await helmVerify(4, chart, keyFile('sam-pubring.gpg'));
    assert.equal(h4.code, 0, h4.stderr);
    const ours = JSON.parse((await runCli(['verify', chart, '--keyring', keyFile('sam-pubring.gpg'), '-o', 'json'])).stdout);
    assert.equal(ours.verified, 1);
    // The signature is the subkey's; the reported fingerprint is the primary's.
    assert.notEqual(ours.results[0].signer.keyId, ours.results[0].signer.fingerprint.slice(-16));
  });

  it('chartprov sign signs an archive Helm packaged, and Helm 3 and 4 verify it', async () => {
    const out = await outDir();
    const chart = join(out, 'hello-world-0.1.0.tgz');
    await copyFile(goldens.helm4.chart, chart);
    const r = await runCli(['sign', chart, '--key', 'John', '--keyring', keyFile('john-sec.asc')]);
    assert.equal(r.code, 0, r.stderr);
    await assertHelm3And4Verify(chart, keyFile('john-pubring.gpg'));
  });

  it('CHARTPROV_SIGNING_KEY (armored, for CI) signs without a keyring', async () => {
    const out = await outDir();
    const armored = await readFile(keyFile('john-sec.asc'), 'utf8');
    const r = await runCli(['package', chartDir, '-d', out, '--sign'], { env: { CHARTPROV_SIGNING_KEY: armored } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('PRIVATE KEY') && !r.stderr.includes('PRIVATE KEY'));
    await assertHelm3And4Verify(join(out, 'hello-world-0.1.0.tgz'), keyFile('john-pubring.gpg'));
  });
});

describe('--sign-with gpg: the gpg binary signs (agent-held keys)', () => {
  let gpg: Gpg;
  before(async () => {
    gpg = await tempGpg();
    await gpg.ok(['--import', keyFile('john-sec.asc')]);
    await gpg.ok(['--passphrase', 'correct horse', '--import', keyFile('pat-sec.asc')]);
  });
  after(() => gpg.close());

  it('signs with a key only gpg-agent holds; Helm 3 and 4 verify', async () => {
    const out = await outDir();
    const r = await runCli(['package', chartDir, '-d', out, '--sign', '--sign-with', 'gpg', '--key', 'john@example.com'], {
      env: { GNUPGHOME: gpg.home },
    });
    assert.equal(r.code, 0, r.stderr);
    const chart = join(out, 'hello-world-0.1.0.tgz');
    const [h3, h4, ours] = await Promise.all([
      helmVerify(3, chart, keyFile('john-pubring.gpg')),
      helmVerify(4, chart, keyFile('john-pubring.gpg')),
      runCli(['verify', chart, '--keyring', gpg.home]),
    ]);
    assert.equal(h3.code, 0, h3.stderr);
    assert.equal(h4.code, 0, h4.stderr);
    assert.equal(ours.code, 0, ours.stderr);
  });

  it('passes a passphrase to gpg through loopback pinentry', async () => {
    const out = await outDir();
    const r = await runCli(
      ['package', chartDir, '-d', out, '--sign', '--sign-with', 'gpg', '--key', 'Pat Phrase', '--passphrase-file', '-'],
      {
        env: { GNUPGHOME: gpg.home },
        input: 'correct horse\n',
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const h4 = await helmVerify(4, join(out, 'hello-world-0.1.0.tgz'), keyFile('pat-pubring.gpg'));
    assert.equal(h4.code, 0, h4.stderr);
  });
});

describe('verify: we accept what Helm signs, from every keyring format', () => {
  for (const helm of ['helm3', 'helm4'] as const) {
    for (const keyring of ['john-pubring.gpg', 'john-pub.asc', 'all-pubring.gpg', 'gnupg-home/pubring.kbx', 'gnupg-home']) {
      it(`${helm} golden with ${keyring}`, async () => {
        const r = await runCli(['verify', goldens[helm].chart, '--keyring', join(keysDir, keyring)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Signed by: John The Signer <john@example.com>/);
        assert.match(r.stdout, /Chart Hash Verified: sha256:[0-9a-f]{64}/);
      });
    }
  }

  it('several --keyring flags at once', async () => {
    const r = await runCli(['verify', goldens.helm3.chart, '--keyring', keyFile('jane-pubring.gpg'), '--keyring', keyFile('john-pub.asc')]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('the default keyring is the gpg home ($GNUPGHOME) when no --keyring is given', async () => {
    const gpg = await tempGpg();
    try {
      await gpg.ok(['--import', keyFile('john-pub.asc')]);
      const r = await runCli(['verify', goldens.helm4.chart], { env: { GNUPGHOME: gpg.home } });
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await gpg.close();
    }
  });

  it('provs that Helm 3 and Helm 4 make with a key gpg made during the test', async () => {
    const gpg = await tempGpg();
    try {
      await gpg.ok(['--passphrase', '', '--quick-gen-key', 'Tess Test <tess@example.com>', 'rsa2048', 'sign,cert', 'never']);
      const secring = join(work, 'tess-secring.gpg');
      // Helm reads only binary keyrings: the legacy secring format.
      await gpg.ok(['--passphrase', '', '--yes', '--export-secret-keys', '-o', secring, 'tess@example.com']);
      for (const major of [3, 4] as const) {
        const out = await outDir();
        const h = await runHelm(major, ['package', chartDir, '--sign', '--key', 'Tess Test', '--keyring', secring, '-d', out]);
        assert.equal(h.code, 0, h.stderr);
        // Our verify reads the modern gpg home (pubring.kbx) that Helm cannot.
        const r = await runCli(['verify', join(out, 'hello-world-0.1.0.tgz'), '--keyring', gpg.home, '-o', 'json']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).results[0].signer.fingerprint, await gpg.fingerprint('tess@example.com'));
      }
    } finally {
      await gpg.close();
    }
  });

  it('verifies many charts in one call and reports each', async () => {
    const out = await outDir();
    const charts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = join(out, `c${i}`);
      await mkdir(c);
      await copyFile(goldens.helm3.chart, join(c, 'hello-world-0.1.0.tgz'));
      await copyFile(goldens.helm3.prov, join(c, 'hello-world-0.1.0.tgz.prov'));
      charts.push(join(c, 'hello-world-0.1.0.tgz'));
    }
    // One bad one in the middle: the others still verify, exit status says failure.
    await writeFile(join(out, 'c2', 'hello-world-0.1.0.tgz.prov'), 'garbage');
    const r = await runCli(['verify', ...charts, '--keyring', keyFile('john-pubring.gpg'), '-o', 'json']);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout);
    assert.equal(json.verified, 4);
    assert.equal(json.failed, 1);
    assert.equal(json.results[2].ok, false);
    assert.equal(json.results[2].error.code, 'PROV_INVALID');
  });
});

describe('a key with several user ids', () => {
  it('package reports the signer exactly as verify does, whichever user id --key matched', async () => {
    const gpg = await tempGpg();
    try {
      await gpg.ok(['--passphrase', '', '--quick-gen-key', 'Alice Primary <alice@example.com>', 'ed25519', 'sign,cert', 'never']);
      const fpr = await gpg.fingerprint('alice@example.com');
      await gpg.ok(['--passphrase', '', '--quick-add-uid', fpr, 'Alice Work <alice@work.example>']);
      const secring = join(work, 'alice-secring.gpg');
      await gpg.ok(['--passphrase', '', '--yes', '--export-secret-keys', '-o', secring, fpr]);
      const out = await outDir();
      const signed = await runCli(['package', chartDir, '-d', out, '--sign', '--key', 'Alice Work', '--keyring', secring, '-o', 'json']);
      assert.equal(signed.code, 0, signed.stderr);
      const verified = await runCli(['verify', join(out, 'hello-world-0.1.0.tgz'), '--keyring', gpg.home, '-o', 'json']);
      assert.equal(verified.code, 0, verified.stderr);
      assert.deepEqual(JSON.parse(signed.stdout).signer, JSON.parse(verified.stdout).results[0].signer);
    } finally {
      await gpg.close();
    }
  });
});
