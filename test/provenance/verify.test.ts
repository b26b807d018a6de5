// verifyProvenance against the Helm goldens, provs made during the test by
// real Helm and gpg, and every failure it must tell apart.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  PacketList,
  Signature,
  SignaturePacket,
  config,
  createMessage,
  enums,
  generateKey,
  readKey,
  readPrivateKey,
  revokeKey,
  type PrivateKey,
} from 'openpgp';
import {
  buildProvenanceMessage,
  parseProvenance,
  signProvenance,
  verifyProvenance,
  type VerifyProvenanceOptions,
} from '../../src/provenance/index.js';
import { tempGpg, type Gpg } from '../peers/gpg.js';
import { runHelm } from '../peers/helm.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';
import { GOLDEN_TGZ, HELLO, golden, helmPackageSigned, privateKey, publicKeys, sha256Hex, writeChart, type Golden } from './helpers.js';

async function rejects(opts: VerifyProvenanceOptions, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(verifyProvenance(opts), (err: Error & { code?: string; hint?: string }) => {
    assert.equal(err.code, code, `${err.code}: ${err.message}`);
    assert.ok(err.hint, 'has a hint');
    if (re) assert.match(err.message, re);
    return true;
  });
}

describe('verifyProvenance with the Helm goldens', () => {
  const g = {} as Record<3 | 4, Golden>;
  before(async () => {
    [g[3], g[4]] = await Promise.all([golden(3), golden(4)]);
  });

  for (const major of [3, 4] as const) {
    describe(`helm ${major}`, () => {
      const opts = async (over: Partial<VerifyProvenanceOptions> = {}): Promise<VerifyProvenanceOptions> => ({
        provenance: g[major].prov,
        fileName: GOLDEN_TGZ,
        sha256: g[major].sha256,
        keys: await publicKeys('john'),
        ...over,
      });

      it('verifies with john-pubring.gpg and reports the signer', async () => {
        const [john] = await publicKeys('john');
        const r = await verifyProvenance(await opts({ chartMetadata: { name: 'hello-world', version: '0.1.0' } }));
        assert.equal(r.fileName, GOLDEN_TGZ);
        assert.equal(r.sha256, g[major].sha256);
        assert.equal(r.metadata.name, 'hello-world');
        assert.equal(r.signer.fingerprint, john!.getFingerprint().toUpperCase());
        assert.equal(r.signer.keyId, john!.getKeyID().toHex().toUpperCase());
        assert.equal(r.signer.userId, 'John The Signer <john@example.com>');
        assert.equal(r.signer.hashAlgorithm, 'SHA512');
        assert.equal(r.signer.algorithm, 'rsa2048');
        assert.match(r.signer.signedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
        // A keyring holding everyone works too, and "sha256:" prefixes are fine.
        await verifyProvenance(await opts({ keys: await publicKeys('all'), sha256: `sha256:${g[major].sha256}` }));
      });

      it("fails with jane's key: SIGNER_UNKNOWN naming john's key id", async () => {
        const [john] = await publicKeys('john');
        await rejects(await opts({ keys: await publicKeys('jane') }), 'SIGNER_UNKNOWN', new RegExp(john!.getKeyID().toHex().toUpperCase()));
      });

      it('a flipped byte in the archive: CHART_TAMPERED', async () => {
        const tgz = Buffer.from(g[major].tgz);
        tgz[tgz.length >> 1] ^= 0x01;
        await rejects(await opts({ sha256: sha256Hex(tgz) }), 'CHART_TAMPERED', new RegExp(g[major].sha256.slice(0, 12)));
      });

      it('an edited description: SIGNATURE_INVALID', async () => {
        const edited = g[major].prov.replace('A Helm chart for Kubernetes', 'A Helm chart for Kubernetez');
        assert.notEqual(edited, g[major].prov);
        await rejects(await opts({ provenance: edited }), 'SIGNATURE_INVALID');
      });

      it('an edited digest: SIGNATURE_INVALID, not CHART_TAMPERED', async () => {
        const forged = sha256Hex('forged');
        const edited = g[major].prov.replace(g[major].sha256, forged);
        await rejects(await opts({ provenance: edited, sha256: forged }), 'SIGNATURE_INVALID');
      });

      it('truncated: PROV_INVALID', async () => {
        await rejects(await opts({ provenance: g[major].prov.slice(0, g[major].prov.length - 40) }), 'PROV_INVALID');
      });

      it('text appended after the signature: PROV_INVALID', async () => {
        await rejects(await opts({ provenance: `${g[major].prov}\nfiles:\n  other.tgz: sha256:${'0'.repeat(64)}\n` }), 'PROV_INVALID');
      });

      it('a renamed archive: PROV_MISMATCH naming the signed file', async () => {
        await rejects(
          await opts({ fileName: 'hello-world-0.2.0.tgz' }),
          'PROV_MISMATCH',
          /hello-world-0\.1\.0\.tgz, not hello-world-0\.2\.0\.tgz/,
        );
      });

      it("metadata that is not the archive's: PROV_MISMATCH", async () => {
        await rejects(await opts({ chartMetadata: { name: 'hello-world', version: '0.2.0' } }), 'PROV_MISMATCH', /0\.2\.0/);
        await rejects(await opts({ chartMetadata: { name: 'other', version: '0.1.0' } }), 'PROV_MISMATCH', /other/);
      });

      it('a revoked key: KEY_REVOKED', async () => {
        const { publicKey } = await revokeKey({ key: await privateKey('john'), format: 'object' });
        await rejects(await opts({ keys: [publicKey] }), 'KEY_REVOKED');
      });
    });
  }
});

describe('verifyProvenance with provs made now by Helm and gpg', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let gpg: Gpg;
  let h3: Golden;
  before(async () => {
    [tmp, gpg, h3] = await Promise.all([tempDir('chartprov-verify-'), tempGpg(), golden(3)]);
    await gpg.ok(['--import', keyFile('john-sec.asc'), keyFile('sam-sec.asc'), keyFile('eddie-sec.asc')]);
  });
  after(async () => {
    await gpg?.close();
    await tmp?.cleanup();
  });

  it('refuses a prov Helm 3 and Helm 4 signed with an expired key: KEY_EXPIRED', async () => {
    const src = join(tmp.dir, 'expired-chart');
    await writeChart(src, 'apiVersion: v2\nname: expired-chart\nversion: 1.0.0\n');
    await Promise.all(
      ([3, 4] as const).map(async (major) => {
        const tgz = await helmPackageSigned(major, src, join(tmp.dir, `expired${major}`), {
          key: 'Ed Expired',
          keyring: keyFile('expired-secring.gpg'),
        });
        const opts = {
          provenance: await readFile(`${tgz}.prov`, 'utf8'),
          fileName: basename(tgz),
          sha256: sha256Hex(await readFile(tgz)),
          keys: await publicKeys('expired'),
        };
        await rejects(opts, 'KEY_EXPIRED', /expired on 2020-01-02/);
        // Helm 3 itself accepts it; that is the hole we close.
        if (major === 3) assert.equal((await runHelm(3, ['verify', '--keyring', keyFile('expired-pubring.gpg'), tgz])).code, 0);
      }),
    );
  });

  it("refuses Helm 4's prov signed by Sam's certify-only primary key: KEY_CANNOT_SIGN", async () => {
    const src = join(tmp.dir, 'sam-chart');
    await writeChart(src, 'apiVersion: v2\nname: sam-chart\nversion: 1.0.0\n');
    const tgz = await helmPackageSigned(4, src, join(tmp.dir, 'sam4'), { key: 'Sam Subkey', keyring: keyFile('sam-secring.gpg') });
    const opts = {
      provenance: await readFile(`${tgz}.prov`, 'utf8'),
      fileName: basename(tgz),
      sha256: sha256Hex(await readFile(tgz)),
      keys: await publicKeys('sam'),
    };
    await rejects(opts, 'KEY_CANNOT_SIGN');
    assert.notEqual((await runHelm(4, ['verify', '--keyring', keyFile('sam-pubring.gpg'), tgz])).code, 0);
  });

  for (const who of ['john', 'eddie', 'sam'] as const) {
    it(`verifies what gpg --clearsign --digest-algo SHA512 makes of our message (${who})`, async () => {
      const text = buildProvenanceMessage(HELLO, GOLDEN_TGZ, h3.sha256);
      const prov = await gpg.ok(['--clearsign', '--digest-algo', 'SHA512', '--local-user', `${who}@example.com`], text);
      const [key] = await publicKeys(who);
      const r = await verifyProvenance({ provenance: prov, fileName: GOLDEN_TGZ, sha256: h3.sha256, keys: [key!] });
      assert.equal(r.signer.fingerprint, key!.getFingerprint().toUpperCase());
      assert.equal(r.signer.algorithm, who === 'john' ? 'rsa2048' : 'ed25519');
      // gpg signs with Sam's subkey: we report it, and the primary's fingerprint.
      const expectedKeyId = (who === 'sam' ? key!.subkeys[0]! : key!).getKeyID().toHex().toUpperCase();
      assert.equal(r.signer.keyId, expectedKeyId);
    });
  }
});

describe('verifyProvenance and time', () => {
  let key: PrivateKey;
  const t0 = new Date('2030-01-01T00:00:00Z');
  before(async () => {
    // A key valid for one day from t0.
    const { privateKey: armored } = await generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Short Lived', email: 'short@example.com' }],
      date: t0,
      keyExpirationTime: 24 * 3600,
      format: 'armored',
    });
    key = await readPrivateKey({ armoredKey: armored });
  });

  it('accepts a signature while the key is valid and refuses it once the key expired', async () => {
    const signedAt = new Date(t0.getTime() + 3600_000);
    const prov = await signProvenance({ metadata: HELLO, fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), signingKey: key, date: signedAt });
    const keys = [await readKey({ armoredKey: key.toPublic().armor() })];
    const base = { provenance: prov, fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), keys };
    const ok = await verifyProvenance({ ...base, now: new Date(t0.getTime() + 7200_000) });
    assert.equal(ok.signer.signedAt, signedAt.toISOString());
    await rejects({ ...base, now: new Date(t0.getTime() + 48 * 3600_000) }, 'KEY_EXPIRED', /expired on 2030-01-02/);
  });

  it('allows 5 minutes of clock skew, and refuses a signature dated further ahead: SIGNATURE_INVALID', async () => {
    const signedAt = new Date(t0.getTime() + 3600_000);
    const prov = await signProvenance({ metadata: HELLO, fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), signingKey: key, date: signedAt });
    const base = { provenance: prov, fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), keys: [key.toPublic()] };
    const r = await verifyProvenance({ ...base, now: new Date(signedAt.getTime() - 2 * 60_000) });
    assert.equal(r.signer.signedAt, signedAt.toISOString());
    await rejects(
      { ...base, now: new Date(signedAt.getTime() - 10 * 60_000) },
      'SIGNATURE_INVALID',
      /^signature is dated in the future: 2030-01-01T01:00:00Z, now is 2030-01-01T00:50:00Z$/,
    );
  });

  it('refuses a prov john signed with a date in 2035, verified today: SIGNATURE_INVALID', async () => {
    const prov = await signProvenance({
      metadata: HELLO,
      fileName: GOLDEN_TGZ,
      sha256: 'cd'.repeat(32),
      signingKey: await privateKey('john'),
      date: new Date('2035-06-01T00:00:00Z'),
    });
    const opts = { provenance: prov, fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), keys: await publicKeys('john') };
    await rejects(opts, 'SIGNATURE_INVALID', /signature is dated in the future: 2035-06-01T00:00:00Z/);
  });

  it('refuses a signature dated before its key was created: SIGNATURE_INVALID', async () => {
    // openpgp's sign() refuses to do this, so the signature packet is made by hand.
    const valid = await signProvenance({ metadata: HELLO, fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), signingKey: key, date: t0 });
    const packet = new SignaturePacket();
    packet.signatureType = enums.signature.text;
    packet.hashAlgorithm = enums.hash.sha512;
    packet.publicKeyAlgorithm = key.keyPacket.algorithm;
    const literal = (await createMessage({ text: parseProvenance(valid).signedText })).packets[0];
    const sign = packet.sign as (...args: unknown[]) => Promise<void>; // its typings omit the config openpgp needs
    await sign.call(packet, key.keyPacket, literal, new Date(t0.getTime() - 24 * 3600_000), false, config);
    const list = new PacketList<SignaturePacket>();
    list.push(packet);
    const predated = valid.slice(0, valid.indexOf('-----BEGIN PGP SIGNATURE-----')) + new Signature(list).armor();
    const opts = { provenance: predated, fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), keys: [key.toPublic()] };
    await rejects(
      { ...opts, now: new Date(t0.getTime() + 3600_000) },
      'SIGNATURE_INVALID',
      /^signature is dated 2029-12-31T00:00:00Z, before its key Short Lived <short@example\.com> \([0-9A-F]{40}\) was created on 2030-01-01T00:00:00Z$/,
    );
  });

  it('accepts a ParsedProvenance as well as text', async () => {
    const prov = await signProvenance({ metadata: HELLO, fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), signingKey: key, date: t0 });
    const keys = [key.toPublic()];
    const r = await verifyProvenance({ provenance: parseProvenance(prov), fileName: GOLDEN_TGZ, sha256: 'cd'.repeat(32), keys, now: t0 });
    assert.equal(r.metadata.name, 'hello-world');
  });
});
