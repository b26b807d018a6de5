// What the user sees: the passphrase prompt on a real terminal (a pty made
// by util-linux `script`), and JSON on stdout for every error under -o json.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { goldens, helloWorldWorkspace } from '../peers/charts.js';
import { onTerminal, runCli } from '../peers/cli.js';
import { keyFile } from '../peers/paths.js';

let work: string;
let chartDir: string;
helloWorldWorkspace((ws) => ({ dir: work, chartDir } = ws));

describe('passphrase prompt on a TTY', () => {
  it('asks without echo and signs with the typed passphrase', async () => {
    const out = join(work, 'tty-ok');
    const r = await onTerminal(['package', chartDir, '-d', out, '--sign', '--key', 'Pat', '--keyring', keyFile('pat-secring.gpg')], {
      'Password:': 'correct horse\r',
    });
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /Password: /);
    assert.doesNotMatch(r.screen, /correct horse/, 'the passphrase is not echoed');
    assert.deepEqual((await readdir(out)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
  });

  it('Ctrl-C at the prompt cancels with PASSPHRASE_REQUIRED and writes nothing', async () => {
    const out = join(work, 'tty-cancel');
    const r = await onTerminal(['package', chartDir, '-d', out, '--sign', '--key', 'Pat', '--keyring', keyFile('pat-secring.gpg')], {
      'Password:': '\u0003',
    });
    assert.equal(r.code, 1, r.screen);
    assert.match(r.screen, /error\[PASSPHRASE_REQUIRED\]/);
    assert.deepEqual(await readdir(out).catch(() => []), [], 'not even the destination folder');
  });
});

describe('-o json', () => {
  it('usage errors are JSON on stdout too', async () => {
    const r = await runCli(['verify', '--bogus', '-o', 'json']);
    assert.equal(r.code, 2);
    assert.equal(JSON.parse(r.stdout).error.code, 'USAGE');
  });

  it('sign reports signed and failed charts in one shape', async () => {
    const dir = join(work, 'sign-json');
    await mkdir(dir);
    const good = join(dir, 'hello-world-0.1.0.tgz');
    await copyFile(goldens.helm3.chart, good);
    const bad = join(dir, 'broken-0.1.0.tgz');
    await writeFile(bad, 'not a chart');
    const both = await runCli(['sign', good, bad, '--key', 'John', '--keyring', keyFile('john-secring.gpg'), '-o', 'json']);
    assert.equal(both.code, 1);
    const json = JSON.parse(both.stdout);
    assert.equal(json.signed.length, 1);
    assert.equal(json.failed[0].error.code, 'NOT_A_CHART');
    const one = await runCli(['sign', bad, '--key', 'John', '--keyring', keyFile('john-secring.gpg'), '-o', 'json']);
    assert.equal(one.code, 1);
    assert.deepEqual(Object.keys(JSON.parse(one.stdout)).sort(), ['failed', 'signed']);
  });
});

describe('warnings', () => {
  it('verify says when the keyrings hold no keys at all', async () => {
    const empty = join(work, 'empty.gpg');
    await writeFile(empty, '');
    const r = await runCli(['verify', goldens.helm3.chart, '--keyring', empty]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^warning: the keyrings hold no public keys/m);
    assert.match(r.stderr, /^error\[SIGNER_UNKNOWN\]/m);
  });
});
