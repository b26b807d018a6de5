// Trust policies: the file format (schema, errors a person can act on), which
// rule applies to a repository, and the verdict on real signatures checked
// with the fixture keys.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkSignatures } from '../../src/flows/chart-signatures.js';
import { defaultRequirement, loadTrustPolicy } from '../../src/flows/trust-policy.js';
import { loadKeyring } from '../../src/keys/keyring.js';
import { TRUST_POLICY_SCHEMA, judgeSignatures, parseTrustPolicy, ruleFor, type CheckedSignature, type TrustRequirement } from '../../src/policy/index.js';
import { readChartArchive } from '../../src/chart/index.js';
import { goldens } from '../peers/charts.js';
import { keyFile, repoRoot } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

const parse = (text: string) => parseTrustPolicy(text, { source: 'policy.yaml' });

function policyError(text: string): { code?: string; message: string } {
  try {
    parse(text);
  } catch (err) {
    return err as { code?: string; message: string };
  }
  assert.fail(`accepted: ${text}`);
}

describe('trust policy file', () => {
  test('the documented schema is the one the validator uses', async () => {
    const documented = JSON.parse(await readFile(join(repoRoot, 'docs', 'trust-policy.schema.json'), 'utf8'));
    assert.deepEqual(documented, JSON.parse(JSON.stringify(TRUST_POLICY_SCHEMA)));
  });

  test('a full policy parses; durations become milliseconds; rules keep their order', () => {
    const p = parse(`
version: 1
keyrings:
  release: keys/release.gpg
defaults:
  signers: [release]
  maxSignatureAge: 90d
rules:
  - repositories: ["helm-charts/infra-*"]
    signers: [release, "0x0123456789ABCDEF"]
    requireSigners: 2
  - repositories: ["sandbox/**"]
    allowUnsigned: true
`);
    assert.deepEqual(p.keyrings, { release: 'keys/release.gpg' });
    assert.equal(p.defaults.maxSignatureAgeMs, 90 * 86_400_000);
    assert.deepEqual(
      p.rules.map((r) => [r.name, r.requireSigners ?? null, r.allowUnsigned ?? null]),
      [
        ['rules[0]', 2, null],
        ['rules[1]', null, true],
      ],
    );
  });

  test('mistakes are POLICY_INVALID, saying where and what', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /is empty/],
      ['version: 2', /version must be 1/],
      ['keyrings: {}', /needs "version"/],
      ['version: 1\nallow_unsigned: true', /unknown key "allow_unsigned" in the top level/],
      ['version: 1\ndefaults: { maxSignatureAge: 3 months }', /defaults\.maxSignatureAge must be a number and a unit/],
      ['version: 1\ndefaults: { requireSigners: 0 }', /defaults\.requireSigners must be >= 1/],
      ['version: 1\nrules: [{ signers: [abc] }]', /rules\[0\] needs "repositories"/],
      ['version: 1\nrules: [{ repositories: [x], signers: [release] }]', /rules\[0\]\.signers names "release", which is neither a keyring/],
      ['version: 1\nrules: [{ repositories: [x], signers: ["DEADBEEF"] }]', /"DEADBEEF", which is neither a keyring under keyrings: nor a key id \(16 hex\)/],
      ['version: 1\nrules: [{ repositories: [x], signers: ["12345678"] }]', /rules\[0\]\.signers\[0\] must be a keyring name or a key id/],
      ['version: 1\nrules: [{ repositories: [x], signers: [constructor] }]', /"constructor", which is neither a keyring/],
      ['version: 1\nversion: 1', /not YAML/],
      ['version: [1', /not YAML/],
    ];
    for (const [text, message] of cases) {
      const err = policyError(text);
      assert.equal(err.code, 'POLICY_INVALID', text);
      assert.match(err.message, message, text);
    }
  });
});

describe('which rule applies', () => {
  const p = parse(`
version: 1
defaults: { requireSigners: 1 }
rules:
  - repositories: ["helm-charts/infra-*"]
    requireSigners: 2
  - repositories: ["registry.example.com/**"]
    allowUnsigned: true
  - repositories: ["**/sandbox/**"]
    allowUnsigned: true
    maxSignatureAge: 1d
`);
  test('with or without the host; * stays in a segment, ** crosses; first match wins; unset fields from the defaults', () => {
    assert.equal(ruleFor(p, '127.0.0.1:5000/helm-charts/infra-dns').label, 'rules[0] (helm-charts/infra-*)');
    assert.equal(ruleFor(p, 'helm-charts/infra-dns').rule.requireSigners, 2);
    assert.equal(ruleFor(p, 'registry.example.com/helm-charts/infra-dns').label, 'rules[0] (helm-charts/infra-*)', 'first match wins');
    assert.equal(ruleFor(p, 'registry.example.com/helm-charts/app').label, 'rules[1] (registry.example.com/**)');
    assert.equal(ruleFor(p, 'localhost:5000/helm-charts/infra/deep').label, 'defaults', '* does not cross a /');
    const sandbox = ruleFor(p, 'other.io/team/sandbox/x');
    assert.equal(sandbox.label, 'rules[2] (**/sandbox/**)');
    assert.equal(sandbox.rule.requireSigners, 1, 'inherited from the defaults');
    assert.equal(ruleFor(p, 'hello-world').label, 'defaults', 'a local chart is matched by its name');
  });

  test('a host inside a path cannot pass for a registry: host patterns match host/path only, others the path only', () => {
    assert.equal(ruleFor(p, 'evil.com/registry.example.com/app').label, 'defaults');
    assert.equal(ruleFor(p, 'localhost:5000/registry.example.com/app').label, 'defaults');
    assert.equal(ruleFor(p, 'registry.example.com/app').label, 'rules[1] (registry.example.com/**)');
    const q = parse('version: 1\nrules: [{ repositories: ["helm-charts/*"], allowUnsigned: true }]\n');
    assert.equal(ruleFor(q, 'evil.com/x/helm-charts/app').label, 'defaults', 'a path pattern is anchored at the path start');
    assert.equal(ruleFor(q, 'ghcr.io/helm-charts/app').label, 'rules[0] (helm-charts/*)');
  });
});

describe('verdict', () => {
  const signer = (fp: string, userId: string, signedAt = '2026-11-01T00:00:00.000Z') => ({
    keyId: fp.slice(-16),
    fingerprint: fp,
    userId,
    signedAt,
    hashAlgorithm: 'SHA512',
    algorithm: 'rsa2048',
  });
  const A = 'A'.repeat(40);
  const B = 'B'.repeat(40);
  const ok = (fp: string, who: string, at?: string): CheckedSignature => ({ source: 'layer', location: `sha256:${fp}`, ok: true, signer: signer(fp, who, at) });
  const bad = (code: string): CheckedSignature => ({ source: 'referrer', location: 'sha256:x', ok: false, error: { code, message: 'no' } });
  const req = (r: Partial<TrustRequirement>): TrustRequirement => ({ rule: 'rules[0] (x)', keys: [], requireSigners: 1, allowUnsigned: false, ...r });
  const now = new Date('2026-11-25T00:00:00Z');

  test('distinct signers are counted against requireSigners', () => {
    const two = judgeSignatures(req({ requireSigners: 2 }), [ok(A, 'Ann'), ok(A, 'Ann'), ok(B, 'Bob')], now);
    assert.equal(two.allowed, true, two.reason);
    assert.deepEqual(
      two.signatures.map((s) => s.counted),
      [true, false, true],
    );
    const one = judgeSignatures(req({ requireSigners: 2 }), [ok(A, 'Ann'), ok(A, 'Ann')], now);
    assert.equal(one.allowed, false);
    assert.match(one.reason, /1 of 2 required signers under rules\[0\] \(x\); another signature by Ann/);
  });

  test('only allowed signers count (fingerprint or key id suffix); age limit', () => {
    const onlyB = judgeSignatures(req({ signers: [B.slice(-16)] }), [ok(A, 'Ann')], now);
    assert.equal(onlyB.allowed, false);
    assert.match(onlyB.reason, /signed by Ann \(A+\), who may not sign under rules\[0\]/);
    assert.equal(judgeSignatures(req({ signers: [B] }), [ok(A, 'Ann'), ok(B, 'Bob')], now).allowed, true);
    const old = judgeSignatures(req({ maxSignatureAgeMs: 7 * 86_400_000 }), [ok(A, 'Ann', '2026-11-01T00:00:00Z')], now);
    assert.equal(old.allowed, false);
    assert.match(old.reason, /older than 7d allowed/);
    assert.equal(judgeSignatures(req({ maxSignatureAgeMs: 30 * 86_400_000 }), [ok(A, 'Ann')], now).allowed, true);
  });

  test('unsigned: allowed only where the rule says so; tampering is refused even then', () => {
    assert.match(judgeSignatures(req({}), [], now).reason, /unsigned, and rules\[0\] \(x\) requires 1 signer/);
    assert.equal(judgeSignatures(req({ allowUnsigned: true }), [], now).allowed, true);
    const unknown = judgeSignatures(req({ allowUnsigned: true }), [bad('SIGNER_UNKNOWN')], now);
    assert.equal(unknown.allowed, true, 'an unknown signer is no worse than no signature');
    for (const code of ['CHART_TAMPERED', 'SIGNATURE_INVALID']) {
      const v = judgeSignatures(req({ allowUnsigned: true }), [ok(A, 'Ann'), bad(code)], now);
      assert.equal(v.allowed, false, code);
      assert.match(v.reason, new RegExp(code));
    }
  });
});

describe('loaded with real keys', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let chart: { fileName: string; sha256: string; name: string; version: string };
  let provText: string;
  let johnFp: string;
  before(async () => {
    ({ dir, cleanup } = await tempDir('chartprov-policy-'));
    const archive = await readChartArchive(goldens.helm4.chart);
    chart = { fileName: 'hello-world-0.1.0.tgz', sha256: archive.sha256, name: archive.metadata.name, version: archive.metadata.version };
    provText = await readFile(goldens.helm4.prov, 'utf8');
    johnFp = (await loadKeyring([keyFile('john-pubring.gpg')])).publicKeys[0]!.getFingerprint().toUpperCase();
  });
  after(() => cleanup?.());

  const write = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };
  const verdictFor = async (policyFile: string, repository: string, opts: { keyrings?: string[] } = {}) => {
    const loaded = await loadTrustPolicy(policyFile, opts);
    const req = loaded.requirementFor(repository);
    const checks = await checkSignatures([{ source: 'file', location: goldens.helm4.prov, text: provText }], chart, req.keys);
    return judgeSignatures(req, checks);
  };

  test("keyrings relative to the file; a rule's signers are its keyrings' keys", async () => {
    await writeFile(join(dir, 'john.gpg'), await readFile(keyFile('john-pubring.gpg')));
    await writeFile(join(dir, 'jane.gpg'), await readFile(keyFile('jane-pubring.gpg')));
    const file = await write(
      'policy.yaml',
      `version: 1
keyrings: { john: john.gpg, jane: jane.gpg }
defaults: { signers: [jane] }
rules:
  - repositories: ["charts/by-john/*"]
    signers: [john]
`,
    );
    const loaded = await loadTrustPolicy(file);
    assert.deepEqual(loaded.requirementFor('127.0.0.1:1/charts/by-john/hello-world').signers, [johnFp]);
    const johnOk = await verdictFor(file, '127.0.0.1:1/charts/by-john/hello-world');
    assert.equal(johnOk.allowed, true, johnOk.reason);
    assert.match(johnOk.reason, /1 of 1 required signer: John The Signer/);
    const elsewhere = await verdictFor(file, '127.0.0.1:1/charts/other/hello-world');
    assert.equal(elsewhere.allowed, false);
    assert.match(elsewhere.reason, /who may not sign under defaults/);
  });

  test('a fingerprint as signer, its key from --keyring; --keyring alone cannot widen a policy with keyrings', async () => {
    const byFp = await write('fp.yaml', `version: 1\ndefaults: { signers: ["${johnFp}"] }\n`);
    assert.equal((await verdictFor(byFp, 'x/hello-world', { keyrings: [keyFile('all-pubring.gpg')] })).allowed, true);
    const noKey = await verdictFor(byFp, 'x/hello-world', { keyrings: [keyFile('jane-pubring.gpg')] });
    assert.equal(noKey.allowed, false);
    assert.match(noKey.reason, /SIGNER_UNKNOWN/);
    await writeFile(join(dir, 'jane-only.gpg'), await readFile(keyFile('jane-pubring.gpg')));
    const janeOnly = await write('jane-only.yaml', 'version: 1\nkeyrings: { jane: jane-only.gpg }\n');
    const widened = await verdictFor(janeOnly, 'x/hello-world', { keyrings: [keyFile('john-pubring.gpg')] });
    assert.equal(widened.allowed, false, 'John verifies, but the policy trusts only its own keyrings');
    assert.match(widened.reason, /who may not sign/);
  });

  test('a missing keyring or policy file is a clear error', async () => {
    const missing = await write('missing.yaml', 'version: 1\nkeyrings: { gone: nowhere.gpg }\n');
    await assert.rejects(loadTrustPolicy(missing), (err: { code: string; message: string }) => {
      assert.equal(err.code, 'POLICY_INVALID');
      assert.match(err.message, /keyring gone \(nowhere\.gpg\)/);
      return true;
    });
    await assert.rejects(loadTrustPolicy(join(dir, 'absent.yaml')), { code: 'FILE_NOT_FOUND' });
  });

  test('without a policy: one valid signature by any given key', async () => {
    const keys = (await loadKeyring([keyFile('all-pubring.gpg')])).publicKeys;
    const req = defaultRequirement(keys);
    const checks = await checkSignatures([{ source: 'file', location: 'x', text: provText }], chart, req.keys);
    assert.equal(judgeSignatures(req, checks).allowed, true);
    assert.equal(judgeSignatures(req, []).allowed, false);
  });
});
