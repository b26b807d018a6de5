// `--policy FILE` where charts are verified: verify oci://, pull --verify and
// verify of local archives, against the embedded registry with a chart signed
// by John (provenance layer) and by Jane (attached), and an unsigned one.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goldens } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
let emb: EmbeddedRegistry;
let cli: (args: string[]) => ReturnType<typeof runCli>;
const policies: Record<string, string> = {};

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-policy-apply-'));
  emb = await startEmbedded({ projects: ['helm-charts', 'sandbox'] });
  cli = (args) => runCli([...args, '--plain-http'], { env: { CHARTPROV_USERNAME: emb.admin.username, CHARTPROV_PASSWORD: emb.admin.password } });
  await mkdir(join(work, 'signed'));
  await copyFile(goldens.helm4.chart, join(work, 'signed', 'hello-world-0.1.0.tgz'));
  await copyFile(goldens.helm4.prov, join(work, 'signed', 'hello-world-0.1.0.tgz.prov'));
  await mkdir(join(work, 'bare'));
  await copyFile(goldens.helm4.chart, join(work, 'bare', 'hello-world-0.1.0.tgz'));
  for (const [args, what] of [
    [['push', join(work, 'signed', 'hello-world-0.1.0.tgz'), `oci://${emb.host}/helm-charts`], 'push signed'],
    [['sign', `oci://${emb.host}/helm-charts/hello-world:0.1.0`, '--key', 'Jane', '--keyring', keyFile('jane-secring.gpg')], 'Jane signs in place'],
    [['push', join(work, 'bare', 'hello-world-0.1.0.tgz'), `oci://${emb.host}/sandbox`], 'push unsigned'],
  ] as const) {
    const r = await cli([...args]);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  }
  await copyFile(keyFile('john-pubring.gpg'), join(work, 'john.gpg'));
  await copyFile(keyFile('jane-pubring.gpg'), join(work, 'jane.gpg'));
  const write = async (name: string, text: string) => {
    policies[name] = join(work, `${name}.yaml`);
    await writeFile(policies[name]!, text);
  };
  await write(
    'both',
    `version: 1
keyrings: { john: john.gpg, jane: jane.gpg }
defaults: { signers: [john, jane], requireSigners: 2 }
rules:
  - repositories: ["sandbox/**"]
    allowUnsigned: true
`,
  );
  await write('janeOnly', 'version: 1\nkeyrings: { jane: jane.gpg }\n');
  await write('johnOnly', 'version: 1\nkeyrings: { john: john.gpg }\n');
  await write('fresh', 'version: 1\nkeyrings: { john: john.gpg }\ndefaults: { maxSignatureAge: 1h }\n');
});

after(async () => {
  await emb?.stop();
  await cleanup?.();
});

describe('--policy', () => {
  const ref = () => `oci://${emb.host}/helm-charts/hello-world:0.1.0`;

  test('verify oci://: two required signers are there; the verdict names the rule', async () => {
    const r = await cli(['verify', ref(), '--policy', policies.both!, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.verdict.allowed, true);
    assert.equal(out.verdict.rule, 'defaults');
    assert.equal(out.accepted.length, 2);
    const text = await cli(['verify', ref(), '--policy', policies.both!]);
    assert.match(text.stdout, /^Policy: defaults: 2 of 2 required signers: /m);
  });

  test('verify oci://: a signer the policy does not trust, and a signature too old, are refused with the reason', async () => {
    const jane = await cli(['verify', ref(), '--policy', policies.janeOnly!, '--keyring', keyFile('all-pubring.gpg'), '-o', 'json']);
    assert.equal(jane.code, 0, 'Jane signed too: one signer is enough by default');
    assert.match(JSON.parse(jane.stdout).verdict.reason, /Jane/);
    const old = await cli(['verify', ref(), '--policy', policies.fresh!, '-o', 'json']);
    assert.notEqual(old.code, 0);
    const err = JSON.parse(old.stdout).error;
    assert.equal(err.code, 'SIGNATURE_POLICY');
    assert.match(err.message, /older than 1h allowed/);
  });

  test('pull --verify: refused charts are not written; an unsigned chart where the rule allows it is pulled without a .prov', async () => {
    const refused = await cli(['pull', `oci://${emb.host}/helm-charts/hello-world`, '--version', '0.1.0', '--verify', '--policy', policies.fresh!, '-d', join(work, 'refused'), '-o', 'json']);
    assert.notEqual(refused.code, 0);
    assert.equal(JSON.parse(refused.stdout).error.code, 'SIGNATURE_POLICY');
    assert.deepEqual(await readdir(join(work, 'refused')).catch(() => []), []);

    const both = await cli(['pull', `oci://${emb.host}/helm-charts/hello-world`, '--version', '0.1.0', '--verify', '--policy', policies.both!, '-d', join(work, 'both'), '-o', 'json']);
    assert.equal(both.code, 0, both.stderr);
    assert.equal(JSON.parse(both.stdout).verdict.allowed, true);
    assert.deepEqual((await readdir(join(work, 'both'))).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);

    const sandbox = await cli(['pull', `oci://${emb.host}/sandbox/hello-world`, '--version', '0.1.0', '--verify', '--policy', policies.both!, '-d', join(work, 'sandbox'), '-o', 'json']);
    assert.equal(sandbox.code, 0, sandbox.stderr);
    const out = JSON.parse(sandbox.stdout);
    assert.match(out.verdict.reason, /unsigned, allowed by rules\[0\] \(sandbox\/\*\*\)/);
    assert.equal(out.verified, undefined);
    assert.deepEqual(await readdir(join(work, 'sandbox')), ['hello-world-0.1.0.tgz']);

    const strict = await cli(['pull', `oci://${emb.host}/sandbox/hello-world`, '--version', '0.1.0', '--verify', '--policy', policies.johnOnly!, '-d', join(work, 'strict'), '-o', 'json']);
    assert.notEqual(strict.code, 0);
    assert.equal(JSON.parse(strict.stdout).error.code, 'PROV_MISSING', 'no signature at all, and the policy wants one');
  });

  test('verify of local archives: judged by the rule for the chart name', async () => {
    const john = await cli(['verify', join(work, 'signed', 'hello-world-0.1.0.tgz'), '--policy', policies.johnOnly!, '-o', 'json']);
    assert.equal(john.code, 0, john.stderr);
    assert.equal(JSON.parse(john.stdout).allowed, 1);
    const jane = await cli(['verify', join(work, 'signed', 'hello-world-0.1.0.tgz'), join(work, 'bare', 'hello-world-0.1.0.tgz'), '--policy', policies.janeOnly!]);
    assert.equal(jane.code, 1);
    assert.match(jane.stdout, /FAIL .*signed.*error\[SIGNATURE_POLICY\]: .*0 of 1 required signer under defaults; SIGNER_UNKNOWN/);
    assert.match(jane.stdout, /FAIL .*bare.*error\[SIGNATURE_POLICY\]: .*unsigned, and defaults requires 1 signer/);
    assert.match(jane.stdout, /0 allowed, 2 refused/);
    const known = await cli(['verify', join(work, 'signed', 'hello-world-0.1.0.tgz'), '--policy', policies.janeOnly!, '--keyring', keyFile('john-pubring.gpg')]);
    assert.equal(known.code, 1, 'John verifies with --keyring, but the policy trusts Jane only');
    assert.match(known.stdout, /signed by John The Signer .*, who may not sign under defaults/);
  });

  test('usage: --policy does not combine with --key-id/--require-signers, needs --verify on pull; a broken policy is POLICY_INVALID', async () => {
    const combo = await cli(['verify', ref(), '--policy', policies.both!, '--key-id', 'DEADBEEFDEADBEEF', '-o', 'json']);
    assert.equal(JSON.parse(combo.stdout).error.code, 'USAGE');
    const noVerify = await cli(['pull', `oci://${emb.host}/helm-charts/hello-world`, '--policy', policies.both!, '-d', join(work, 'nv'), '-o', 'json']);
    assert.equal(JSON.parse(noVerify.stdout).error.code, 'USAGE');
    await writeFile(join(work, 'broken.yaml'), 'version: 1\nrules: [{ repositories: [x], requireSigners: two }]\n');
    const broken = await cli(['verify', ref(), '--policy', join(work, 'broken.yaml'), '-o', 'json']);
    assert.notEqual(broken.code, 0);
    const err = JSON.parse(broken.stdout).error;
    assert.equal(err.code, 'POLICY_INVALID');
    assert.match(err.message, /rules\[0\]\.requireSigners must be integer/);
  });
});
