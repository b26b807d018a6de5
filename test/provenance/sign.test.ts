// signProvenance: the armor we write, the keys we refuse, and real Helm 3/4
// verifying what we sign. Also batch verification and its speed against Helm.
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKey, readCleartextMessage, readPrivateKey, readSignature, revokeKey, type SecretKeyPacket } from 'openpgp';
import { selectSigningKey } from '../../src/keys/index.js';
import {
  buildProvenanceMessage,
  signProvenance,
  signProvenanceText,
  verifyProvenance,
  verifyProvenanceBatch,
} from '../../src/provenance/index.js';
import { runHelm, type HelmMajor } from '../peers/helm.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';
import { GOLDEN_TGZ, HELLO, golden, goldenPath, privateKey, publicKeys, type Golden } from './helpers.js';

async function refuses(who: string, code: string, key?: Parameters<typeof signProvenanceText>[1]): Promise<void> {
  const signingKey = key ?? (await privateKey(who));
  await assert.rejects(
    signProvenance({ metadata: HELLO, fileName: GOLDEN_TGZ, sha256: 'ab'.repeat(32), signingKey }),
    (err: Error & { code?: string; hint?: string }) => {
      assert.equal(err.code, code, err.message);
      assert.ok(err.hint);
      return true;
    },
  );
}

describe('signProvenance', () => {
  let h3: Golden;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const signed = new Map<string, string>();

  before(async () => {
    [h3, tmp] = await Promise.all([golden(3), tempDir('chartprov-sign-')]);
    // One prov per signer, each beside its own copy of the golden archive.
    await Promise.all(
      ['john', 'eddie', 'sam'].map(async (who) => {
        const prov = await signProvenance({ metadata: HELLO, fileName: GOLDEN_TGZ, sha256: h3.sha256, signingKey: await privateKey(who) });
        const dir = join(tmp.dir, who);
        await mkdir(dir);
        await copyFile(goldenPath(3), join(dir, GOLDEN_TGZ));
        await writeFile(join(dir, `${GOLDEN_TGZ}.prov`), prov);
        signed.set(who, prov);
      }),
    );
  });
  after(() => tmp?.cleanup());

  it('writes the Helm 3 armor layout: Hash: SHA512, CRC24, newline after the END line', async () => {
    const prov = signed.get('john')!;
    assert.ok(prov.startsWith('-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\n'));
    assert.ok(prov.endsWith('\n-----END PGP SIGNATURE-----\n'));
    assert.match(prov, /^=[A-Za-z0-9+/]{4}$/m);
    assert.ok(!prov.includes('\r'), 'LF line ends only, like Helm and gpg');
    const msg = await readCleartextMessage({ cleartextMessage: prov });
    assert.equal(msg.getText(), buildProvenanceMessage(HELLO, GOLDEN_TGZ, h3.sha256));
    // Same message Helm 3 signed for this archive (Helm 3 leaves the last newline out).
    assert.equal(msg.getText().replace(/\n$/, ''), (await readCleartextMessage({ cleartextMessage: h3.prov })).getText());
  });

  it('signs with the signing subkey when the primary may only certify (Sam)', async () => {
    const [sam] = await publicKeys('sam');
    const sig = await readSignature({
      armoredSignature: signed.get('sam')!.slice(signed.get('sam')!.indexOf('-----BEGIN PGP SIGNATURE-----')),
    });
    const issuer = sig.getSigningKeyIDs()[0]!.toHex();
    assert.equal(issuer, sam!.subkeys[0]!.getKeyID().toHex());
    assert.notEqual(issuer, sam!.getKeyID().toHex());
  });

  it('signs with the primary key when it may sign, as Helm does and as selectSigningKey reports; signingKeyId picks a subkey', async () => {
    const { privateKey: both } = await generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'Both', email: 'both@example.com' }],
      subkeys: [{ sign: true }],
      format: 'object',
    });
    const issuer = async (prov: string): Promise<string> =>
      (await readSignature({ armoredSignature: prov.slice(prov.indexOf('-----BEGIN PGP SIGNATURE-----')) }))
        .getSigningKeyIDs()[0]!
        .toHex()
        .toUpperCase();
    const primaryId = both.getKeyID().toHex().toUpperCase();
    const subkeyId = both.subkeys[0]!.getKeyID().toHex().toUpperCase();
    const selected = await selectSigningKey(
      { privateKeys: [both], publicKeys: [both.toPublic()], sources: [], agentOnlyFingerprints: [] },
      'Both',
    );
    assert.equal(selected.signingKeyId, primaryId);
    const text = buildProvenanceMessage(HELLO, GOLDEN_TGZ, h3.sha256);
    assert.equal(await issuer(await signProvenanceText(text, both)), primaryId, 'openpgp alone would take the subkey');
    assert.equal(await issuer(await signProvenanceText(text, both, { signingKeyId: selected.signingKeyId })), primaryId);
    assert.equal(await issuer(await signProvenanceText(text, both, { signingKeyId: subkeyId.toLowerCase() })), subkeyId);
    await assert.rejects(signProvenanceText(text, both, { signingKeyId: 'ABCDEF0123456789' }), { code: 'KEY_CANNOT_SIGN' });
    // An offline primary (gnu-dummy stub): its signing subkey signs.
    const stubbed = await readPrivateKey({ armoredKey: both.armor() });
    (stubbed.keyPacket as SecretKeyPacket).makeDummy();
    assert.equal(await issuer(await signProvenanceText(text, stubbed)), subkeyId);
  });

  it('uses the given date', async () => {
    const date = new Date('2031-05-06T07:08:09Z');
    const prov = await signProvenance({
      metadata: HELLO,
      fileName: GOLDEN_TGZ,
      sha256: h3.sha256,
      signingKey: await privateKey('john'),
      date,
    });
    const r = await verifyProvenance({
      provenance: prov,
      fileName: GOLDEN_TGZ,
      sha256: h3.sha256,
      keys: await publicKeys('john'),
      now: date,
    });
    assert.equal(r.signer.signedAt, date.toISOString());
  });

  const helmVerify = (major: HelmMajor, who: string) =>
    runHelm(major, ['verify', '--keyring', keyFile(`${who}-pubring.gpg`), join(tmp.dir, who, GOLDEN_TGZ)]);

  it('real Helm 3 and Helm 4 verify what we sign with an RSA key (john)', async () => {
    const [r3, r4] = await Promise.all([helmVerify(3, 'john'), helmVerify(4, 'john')]);
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(r4.code, 0, r4.stderr);
    assert.match(r4.stdout, new RegExp(h3.sha256));
  });

  it('real Helm 4 verifies Ed25519 (eddie) and signing-subkey (sam) provs; Helm 3 cannot load Ed25519', async () => {
    const [e4, s4, e3] = await Promise.all([helmVerify(4, 'eddie'), helmVerify(4, 'sam'), helmVerify(3, 'eddie')]);
    assert.equal(e4.code, 0, e4.stderr);
    assert.equal(s4.code, 0, s4.stderr);
    assert.notEqual(e3.code, 0);
    assert.match(e3.stderr, /unsupported feature: public key type: 22/);
  });

  it('refuses keys that must not sign, saying why', async () => {
    await refuses('expired', 'KEY_EXPIRED');
    await refuses('pat', 'PASSPHRASE_REQUIRED');
    const { privateKey: revoked } = await revokeKey({ key: await privateKey('jane'), format: 'object' });
    await refuses('jane', 'KEY_REVOKED', revoked);
    const [johnPublic] = await publicKeys('john');
    await refuses('john', 'KEY_CANNOT_SIGN', johnPublic as unknown as Parameters<typeof signProvenanceText>[1]);
  });

  it('refuses a message about a path or a bad digest', async () => {
    const signingKey = await privateKey('john');
    await assert.rejects(signProvenance({ metadata: HELLO, fileName: 'dir/x.tgz', sha256: h3.sha256, signingKey }), {
      code: 'PROV_INVALID',
    });
    await assert.rejects(signProvenance({ metadata: HELLO, fileName: GOLDEN_TGZ, sha256: 'xyz', signingKey }), { code: 'PROV_INVALID' });
  });
});

describe('verifyProvenanceBatch', () => {
  it('verifies 200 charts in order and reports failures without throwing', async () => {
    const [h3, h4] = await Promise.all([golden(3), golden(4)]);
    const keys = await publicKeys('all');
    const items = Array.from({ length: 200 }, (_, i) => {
      const g = i % 2 ? h4 : h3;
      if (i % 50 === 7) return { provenance: g.prov, fileName: GOLDEN_TGZ, sha256: 'ef'.repeat(32) };
      if (i % 50 === 8) return { provenance: `${g.prov}\ntrailing`, fileName: GOLDEN_TGZ, sha256: g.sha256 };
      return { provenance: g.prov, fileName: GOLDEN_TGZ, sha256: g.sha256 };
    });
    const results = await verifyProvenanceBatch(items, keys, { concurrency: 4 });

    assert.equal(results.length, 200);
    results.forEach((r, i) => {
      if (i % 50 === 7) assert.equal(!r.ok && r.error.code, 'CHART_TAMPERED');
      else if (i % 50 === 8) assert.equal(!r.ok && r.error.code, 'PROV_INVALID');
      else assert.ok(r.ok && r.result.signer.userId.startsWith('John'), `item ${i}`);
    });
  });
});
