// parseProvenance: both Helm armor variants, dash-escaping, and every way a
// .prov can be malformed or carry extra text.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildProvenanceMessage, parseProvenance, signProvenanceText, verifyProvenance } from '../../src/provenance/index.js';
import { tempGpg, type Gpg } from '../peers/gpg.js';
import { keyFile } from '../peers/paths.js';
import { GOLDEN_TGZ, golden, privateKey, publicKeys, type Golden } from './helpers.js';

const invalid = (fn: () => unknown, re?: RegExp): void => {
  assert.throws(fn, (err: Error & { code?: string; hint?: string }) => {
    assert.equal(err.code, 'PROV_INVALID', err.message);
    assert.ok(err.hint, 'has a hint');
    assert.ok(!err.message.includes('\n'), 'one-line message');
    if (re) assert.match(err.message, re);
    return true;
  });
};

describe('parseProvenance', () => {
  let h3: Golden;
  let h4: Golden;
  before(async () => {
    [h3, h4] = await Promise.all([golden(3), golden(4)]);
  });

  it('reads the Helm 3 golden (CRC24 line, no blank line before the signature)', () => {
    const p = parseProvenance(h3.prov);
    assert.equal(p.hashAlgorithm, 'SHA512');
    assert.deepEqual(p.files, { [GOLDEN_TGZ]: `sha256:${h3.sha256}` });
    assert.equal(p.metadata.name, 'hello-world');
    assert.equal(p.metadata.version, '0.1.0');
    assert.equal(p.metadata.appVersion, '1.16.0');
    assert.ok(p.metadataYaml.startsWith('apiVersion: v2\n') && p.metadataYaml.endsWith('version: 0.1.0\n'));
    assert.ok(p.signedText.endsWith(h3.sha256), 'Helm 3 does not sign the final newline');
    assert.match(p.signatureArmored, /^-----BEGIN PGP SIGNATURE-----\n\n[\s\S]+\n-----END PGP SIGNATURE-----\n$/);
    assert.ok(p.signatureBytes.length > 100);
  });

  it('reads the Helm 4 golden (no CRC24, no final newline, signed trailing newline)', () => {
    assert.ok(!h4.prov.endsWith('\n'));
    const p = parseProvenance(h4.prov);
    assert.equal(p.hashAlgorithm, 'SHA512');
    assert.deepEqual(p.files, { [GOLDEN_TGZ]: `sha256:${h4.sha256}` });
    assert.ok(p.signedText.endsWith(`${h4.sha256}\n`));
    // Both Helms sign the same message apart from that last newline.
    assert.equal(p.signedText, `${parseProvenance(h3.prov).signedText}\n`);
  });

  it('accepts CRLF line ends and surrounding whitespace', async () => {
    const crlf = `\r\n  \n${h3.prov.replaceAll('\n', '\r\n')}\r\n\r\n \t\n`;
    const p = parseProvenance(crlf);
    assert.equal(p.signedText, parseProvenance(h3.prov).signedText);
    await verifyProvenance({ provenance: crlf, fileName: GOLDEN_TGZ, sha256: h3.sha256, keys: await publicKeys('john') });
  });

  it('refuses text before the armor, after it, and a second signed message', () => {
    invalid(() => parseProvenance(`note: trust me\n${h3.prov}`), /before/);
    invalid(() => parseProvenance(`${h3.prov}\nfiles:\n  evil.tgz: sha256:${'0'.repeat(64)}\n`), /after/);
    invalid(() => parseProvenance(`${h3.prov}\n${h4.prov}`), /after/);
    // A signed message smuggled inside the signed text would need unescaped dashes.
    const nested = h3.prov.replace('...\n', `...\n${h4.prov.split('\n').slice(0, 3).join('\n')}\n`);
    invalid(() => parseProvenance(nested), /dash-escaped/);
  });

  it('refuses what is not a clearsigned provenance', () => {
    invalid(() => parseProvenance(''), /empty/);
    invalid(() => parseProvenance('apiVersion: v2\nname: x\n'), /not a clearsigned/);
    invalid(() => parseProvenance(h3.prov.replace('SIGNED MESSAGE', 'MESSAGE')), /not a clearsigned/);
  });

  it('refuses truncated files wherever they are cut', () => {
    const cuts = [h3.prov.indexOf('Hash'), h3.prov.indexOf('files:'), h3.prov.indexOf('-----BEGIN PGP SIGNATURE'), h3.prov.length - 30];
    for (const at of cuts) invalid(() => parseProvenance(h3.prov.slice(0, at)), /truncated|armor/);
  });

  it('refuses bad Hash headers and extra headers', () => {
    invalid(() => parseProvenance(h3.prov.replace('Hash: SHA512', 'Hash: MD4')), /Hash/);
    invalid(() => parseProvenance(h3.prov.replace('Hash: SHA512', 'Hash: SHA512,SHA256')), /Hash/);
    invalid(() => parseProvenance(h3.prov.replace('Hash: SHA512\n', '')), /Hash/);
    invalid(() => parseProvenance(h3.prov.replace('Hash: SHA512\n', 'Hash: SHA512\nHash: SHA512\n')), /Hash/);
    invalid(() => parseProvenance(h3.prov.replace('Hash: SHA512\n', 'Hash: SHA512\nComment: hi\n')), /header/);
  });

  it('refuses a damaged signature block', () => {
    invalid(() => parseProvenance(h3.prov.replace(/^=.{4}$/m, '=AAAA')), /checksum/);
    invalid(() => parseProvenance(h3.prov.replace(/^(wsBc.{10})/m, '$1*')), /base64/);
    invalid(() => parseProvenance(h3.prov.replace(/^(wsBc.{10})./m, '$1')), /base64/);
  });

  it('refuses message blocks Helm would misread', () => {
    const resign = (text: string): string =>
      h3.prov.replace(/\n\n[\s\S]*\n-----BEGIN PGP SIGNATURE/, `\n\n${text}\n-----BEGIN PGP SIGNATURE`);
    const digest = `sha256:${h3.sha256}`;
    invalid(() => parseProvenance(resign(`name: x\nfiles:\n  ${GOLDEN_TGZ}: ${digest}`)), /"\.\.\."/);
    invalid(() => parseProvenance(resign(`name: x\n\n...\nfiles:\n  a.tgz: ${digest}\n...\nfiles:\n  b.tgz: ${digest}`)), /more than one/);
    invalid(() => parseProvenance(resign('name: x\n\n...\nimages: {}')), /files map/);
    invalid(() => parseProvenance(resign('name: x\n\n...\nfiles: {}')), /files map/);
    invalid(() => parseProvenance(resign('name: x\n\n...\n')), /files map/);
    invalid(() => parseProvenance(resign(`name: x\n\n...\nfiles:\n  ${GOLDEN_TGZ}: ${digest.toUpperCase()}`)), /bad digest/);
    invalid(() => parseProvenance(resign(`name: x\n\n...\nfiles:\n  ${GOLDEN_TGZ}: sha1:${'a'.repeat(40)}`)), /bad digest/);
    invalid(() => parseProvenance(resign(`name: x\n\n...\nfiles:\n  a.tgz: ${digest}\n  a.tgz: ${digest}`)), /YAML/);
    invalid(() => parseProvenance(resign(`name: x\n\n...\nfiles:\n  a.tgz: ${digest}\nextra: 1`)), /unexpected/);
    invalid(() => parseProvenance(resign(`-list: x\n\n...\nfiles:\n  a.tgz: ${digest}`)), /dash-escaped/);
    invalid(() => parseProvenance(resign(`- - a list\n\n...\nfiles:\n  a.tgz: ${digest}`)), /mapping/);
    invalid(() => parseProvenance(resign(`name: [x\n\n...\nfiles:\n  a.tgz: ${digest}`)), /YAML/);
  });

  it('enforces a size limit (1 MiB by default, configurable)', () => {
    invalid(() => parseProvenance(h3.prov, { maxBytes: 512 }), /larger than 512/);
    invalid(() => parseProvenance(`${h3.prov}${' '.repeat(1024 * 1024)}`), /larger than/);
    assert.equal(parseProvenance(h3.prov, { maxBytes: 4096 }).hashAlgorithm, 'SHA512');
  });
});

describe('dash-escaped lines round-trip', () => {
  let gpg: Gpg;
  before(async () => {
    gpg = await tempGpg();
    await gpg.ok(['--import', keyFile('john-sec.asc')]);
  });
  after(() => gpg?.close());

  const sha = 'ab'.repeat(32);
  const files = `\n...\nfiles:\n  dashes-1.0.0.tgz: sha256:${sha}\n`;
  // Lines that start with '-' (list items at column 0, a column-0 "-----" key
  // in a flow mapping, armor look-alikes) must be escaped and come back intact.
  const messages = {
    block: buildProvenanceMessage(
      {
        apiVersion: 'v2',
        name: 'dashes',
        version: '1.0.0',
        description: '- starts with a dash',
        keywords: ['-----', '-----BEGIN PGP SIGNATURE-----', '- nested', '--'],
        maintainers: [{ name: '-----END PGP SIGNATURE-----' }],
      },
      'dashes-1.0.0.tgz',
      sha,
    ),
    flow: `{name: dashes, version: 1.0.0,\n-----: a line of dashes,\n-----BEGIN PGP SIGNATURE-----: armor look-alike,\n--: x}\n${files}`,
  };

  for (const [kind, text] of Object.entries(messages)) {
    it(`${kind}: our clearsign and gpg's both parse back to the exact text and verify`, async () => {
      assert.match(text, /^-/m);
      const keys = await publicKeys('john');
      const ours = await signProvenanceText(text, await privateKey('john'));
      const theirs = await gpg.ok(['--clearsign', '--digest-algo', 'SHA512', '--local-user', 'john@example.com'], text);
      for (const prov of [ours, theirs]) {
        assert.match(prov, /^- -/m, 'armor holds escaped lines');
        const p = parseProvenance(prov);
        // gpg, like Helm 3, leaves the final newline out of the signed text.
        assert.equal(p.signedText.replace(/\n?$/, '\n'), text);
        assert.equal(p.metadata.name, 'dashes');
        const r = await verifyProvenance({ provenance: p, fileName: 'dashes-1.0.0.tgz', sha256: sha, keys });
        assert.equal(r.signer.userId, 'John The Signer <john@example.com>');
      }
    });
  }
});
