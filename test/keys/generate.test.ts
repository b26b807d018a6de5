// Keys we generate must be usable by the real gpg (and so by Helm, which reads
// the same binary packets); exported keys must round-trip.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readKeys } from 'openpgp';
import {
  describeKey,
  exportKeys,
  generateKeyPair,
  isKeyEncrypted,
  loadKeyring,
  parseKeyringData,
  selectSigningKey,
  unlockKey,
} from '../../src/keys/index.js';
import { tempGpg } from '../peers/gpg.js';
import type { Gpg } from '../peers/gpg.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
let gpg: Gpg;
before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-generate-'));
  gpg = await tempGpg();
});
after(async () => {
  await gpg.close();
  await cleanup();
});

describe('generateKeyPair', () => {
  for (const type of ['rsa2048', 'ed25519'] as const) {
    it(`${type}: gpg imports the binary public and secret keys and lists the user id`, async () => {
      const name = `Gen ${type}`;
      const email = `${type}@example.com`;
      const pair = await generateKeyPair({ name, email, comment: 'test', type });
      const userId = `${name} (test) <${email}>`;
      assert.equal(pair.userId, userId);
      assert.match(pair.fingerprint, /^[0-9A-F]{40}$/);
      assert.match(pair.publicKeyArmored, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
      assert.match(pair.privateKeyArmored, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);

      const pub = join(work, `${type}-pubring.gpg`);
      const sec = join(work, `${type}-secring.gpg`);
      await writeFile(pub, pair.publicKeyBinary);
      await writeFile(sec, pair.privateKeyBinary);
      await gpg.ok(['--import', pub]);
      assert.equal(await gpg.fingerprint(email), pair.fingerprint);
      assert.ok((await gpg.ok(['--list-keys', email])).includes(userId));
      await gpg.ok(['--import', sec]);
      const secret = await gpg.ok(['--with-colons', '--list-secret-keys', email]);
      assert.ok(
        secret.split('\n').some((l) => l.startsWith('sec:')),
        secret,
      );

      // And we read back what we wrote, and can sign with it.
      const kr = await loadKeyring([sec]);
      const info = await describeKey(kr.privateKeys[0]!, kr);
      assert.equal(info.algorithm, type);
      assert.equal(info.capabilities.sign, true);
      assert.equal(info.helm3Compatible, type !== 'ed25519');
      assert.equal((await selectSigningKey(kr, email)).fingerprint, pair.fingerprint);
    });
  }

  it('rsa4096 by default', async () => {
    const pair = await generateKeyPair({ name: 'Default Type', email: 'default@example.com' });
    const [key] = await readKeys({ binaryKeys: pair.publicKeyBinary });
    assert.equal((await describeKey(key!)).algorithm, 'rsa4096');
  });

  it('a passphrase-protected key needs the passphrase to unlock', async () => {
    const pair = await generateKeyPair({ name: 'Locked', email: 'locked@example.com', type: 'ed25519', passphrase: 's3cret pass' });
    const { keys } = await parseKeyringData(pair.privateKeyBinary, 'generated');
    const key = keys[0]!;
    assert.ok(key.isPrivate());
    assert.equal(isKeyEncrypted(key), true);
    await assert.rejects(unlockKey(key, undefined), { code: 'PASSPHRASE_REQUIRED' });
    await assert.rejects(unlockKey(key, 'wrong'), { code: 'PASSPHRASE_WRONG' });
    assert.equal(isKeyEncrypted(await unlockKey(key, 's3cret pass')), false);
    // gpg agrees: importing the secret key needs the passphrase.
    const file = join(work, 'locked-secring.gpg');
    await writeFile(file, pair.privateKeyBinary);
    await gpg.ok(['--passphrase', 's3cret pass', '--import', file]);
    assert.equal(await gpg.fingerprint('locked@example.com'), pair.fingerprint);
  });

  it('expires: a date or seconds from now; the past is a usage error', async () => {
    const when = new Date(Date.now() + 10 * 24 * 3600 * 1000);
    const pair = await generateKeyPair({ name: 'Short Lived', type: 'ed25519', expires: when });
    const [key] = await readKeys({ binaryKeys: pair.publicKeyBinary });
    const info = await describeKey(key!);
    assert.ok(info.expires, 'has an expiry');
    assert.ok(Math.abs(Date.parse(info.expires) - when.getTime()) < 5000, `${info.expires} vs ${when.toISOString()}`);
    assert.equal(pair.userId, 'Short Lived');
    const bySeconds = await generateKeyPair({ name: 'Hour', type: 'ed25519', expires: 3600 });
    const [k2] = await readKeys({ binaryKeys: bySeconds.publicKeyBinary });
    assert.ok(Math.abs(Date.parse((await describeKey(k2!)).expires!) - (Date.now() + 3600_000)) < 5000);
    await assert.rejects(generateKeyPair({ name: 'Past', type: 'ed25519', expires: new Date('2020-01-01') }), { code: 'USAGE' });
    await assert.rejects(generateKeyPair({ name: '  ', type: 'ed25519' }), { code: 'USAGE' });
  });
});

describe('exportKeys', () => {
  it('exports one public key by name, armored, that reads back', async () => {
    const kr = await loadKeyring([keyFile('all-pubring.gpg')]);
    const armored = await exportKeys(kr, { name: 'Jane', armor: true });
    assert.match(armored, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const keys = await readKeys({ armoredKeys: armored });
    assert.deepEqual(
      keys.map((k) => k.getUserIDs()[0]),
      ['Jane Other <jane@example.com>'],
    );
    assert.equal(keys[0]!.isPrivate(), false);
  });

  it('exports every key without a name, binary, as gpg reads it', async () => {
    const kr = await loadKeyring([keyFile('gnupg-home')]);
    const bytes = await exportKeys(kr, {});
    assert.ok(bytes instanceof Uint8Array);
    assert.equal((await readKeys({ binaryKeys: bytes })).length, 6);
    const file = join(work, 'exported.gpg');
    await writeFile(file, bytes);
    const out = await gpg.ok(['--with-colons', '--import-options', 'show-only', '--import', file]);
    assert.equal(out.split('\n').filter((l) => l.startsWith('pub:')).length, 6);
  });

  it('exports all matches of a substring (gpg --export semantics)', async () => {
    const kr = await loadKeyring([keyFile('all-pubring.gpg')]);
    const bytes = await exportKeys(kr, { name: '@example.com' });
    assert.equal((await readKeys({ binaryKeys: bytes })).length, 6);
  });

  it('exports a secret key, still protected', async () => {
    const kr = await loadKeyring([keyFile('pat-secring.gpg'), keyFile('all-pubring.gpg')]);
    const armored = await exportKeys(kr, { name: 'Pat', secret: true, armor: true });
    assert.match(armored, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    const back = await parseKeyringData(new TextEncoder().encode(armored), 'export');
    assert.equal(back.keys.length, 1);
    const key = back.keys[0]!;
    assert.ok(key.isPrivate());
    assert.equal(isKeyEncrypted(key), true);
    assert.equal(isKeyEncrypted(await unlockKey(key, 'correct horse')), false);
  });

  it('KEY_NOT_FOUND when nothing matches, or when only the public key is there', async () => {
    const kr = await loadKeyring([keyFile('pat-secring.gpg'), keyFile('all-pubring.gpg')]);
    await assert.rejects(exportKeys(kr, { name: 'Nobody' }), { code: 'KEY_NOT_FOUND' });
    await assert.rejects(exportKeys(kr, { name: 'Jane', secret: true }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_NOT_FOUND');
      assert.match(err.message, /public key only/);
      return true;
    });
    const empty = await loadKeyring([keyFile('all-pubring.gpg')]);
    await assert.rejects(exportKeys(empty, { secret: true }), { code: 'KEY_NOT_FOUND' });
  });
});
