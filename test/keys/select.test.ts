// `--key NAME` as Helm means it, plus the errors that say why a key cannot
// sign; and unlocking a passphrase-protected key.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKey, readKeys, readPrivateKey, revokeKey } from 'openpgp';
import type { PrivateKey } from 'openpgp';
import { isKeyEncrypted, loadKeyring, selectSigningKey, unlockKey } from '../../src/keys/index.js';
import type { Keyring } from '../../src/keys/index.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-select-'));
});
after(() => cleanup());

const ring = (...files: string[]) => loadKeyring(files.map((f) => keyFile(f)));

async function fixtureKey(who: string): Promise<PrivateKey> {
  return readPrivateKey({ binaryKey: new Uint8Array(await readFile(keyFile(`${who}-secring.gpg`))) });
}

/** A keyring holding just these private keys, as loadKeyring would return it. */
function ringOf(...keys: PrivateKey[]): Keyring {
  return { privateKeys: keys, publicKeys: keys.map((k) => k.toPublic()), sources: ['test'], agentOnlyFingerprints: [] };
}

async function quickKey(name: string, email?: string): Promise<PrivateKey> {
  const { privateKey } = await generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [email ? { name, email } : { name }],
    format: 'object',
  });
  return privateKey;
}

describe('selectSigningKey: matching', () => {
  it('an exact user id wins over substring matches', async () => {
    const john = await fixtureKey('john');
    const bare = await quickKey('John The Signer'); // user id is exactly the name
    const kr = ringOf(john, bare);
    const exact = await selectSigningKey(kr, 'John The Signer');
    assert.equal(exact.fingerprint, bare.getFingerprint().toUpperCase());
    assert.equal(exact.userId, 'John The Signer');
    const full = await selectSigningKey(kr, 'John The Signer <john@example.com>');
    assert.equal(full.fingerprint, john.getFingerprint().toUpperCase());
    await assert.rejects(selectSigningKey(kr, 'John'), { code: 'KEY_AMBIGUOUS' });
  });

  it('a unique substring selects the key, and matching is case-sensitive', async () => {
    const kr = await ring('john-secring.gpg');
    const s = await selectSigningKey(kr, 'John');
    assert.equal(s.userId, 'John The Signer <john@example.com>');
    assert.equal(s.algorithm, 'rsa2048');
    assert.equal(s.signingKeyId, s.fingerprint.slice(-16), 'john signs with his primary key');
    await assert.rejects(selectSigningKey(kr, 'john the signer'), { code: 'KEY_NOT_FOUND' });
  });

  it('more than one candidate is KEY_AMBIGUOUS listing user ids and fingerprints', async () => {
    const kr = await ring('john-secring.gpg', 'jane-secring.gpg');
    await assert.rejects(selectSigningKey(kr, '@example.com'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_AMBIGUOUS');
      for (const k of kr.privateKeys) {
        assert.ok(err.message.includes(k.getFingerprint().toUpperCase()), err.message);
        assert.ok(err.message.includes(k.getUserIDs()[0]!), err.message);
      }
      return true;
    });
  });

  it('without a name: the only secret key, else KEY_AMBIGUOUS, none is KEY_NOT_FOUND', async () => {
    assert.equal((await selectSigningKey(await ring('john-secring.gpg'), undefined)).userId, 'John The Signer <john@example.com>');
    await assert.rejects(selectSigningKey(await ring('john-secring.gpg', 'jane-secring.gpg'), undefined), { code: 'KEY_AMBIGUOUS' });
    await assert.rejects(selectSigningKey(await ring('all-pubring.gpg'), undefined), { code: 'KEY_NOT_FOUND' });
  });

  it('no match is KEY_NOT_FOUND', async () => {
    await assert.rejects(selectSigningKey(await ring('john-secring.gpg'), 'Nobody'), (err: Error & { code?: string; hint?: string }) => {
      assert.equal(err.code, 'KEY_NOT_FOUND');
      assert.match(err.message, /no secret key matches "Nobody"/);
      assert.ok(err.hint?.includes('John The Signer'), 'the hint lists the secret keys there are');
      return true;
    });
  });

  it('a public-only match says so, and points to gpg-agent when the agent holds the secret', async () => {
    await assert.rejects(
      selectSigningKey(await ring('john-secring.gpg', 'jane-pubring.gpg'), 'Jane'),
      (err: Error & { code?: string; hint?: string }) => {
        assert.equal(err.code, 'KEY_NOT_FOUND');
        assert.match(err.message, /found as public key only; its secret key is not in the keyring/);
        assert.doesNotMatch(err.hint ?? '', /--sign-with gpg/);
        return true;
      },
    );
    await assert.rejects(selectSigningKey(await ring('gnupg-home'), 'Jane'), (err: Error & { code?: string; hint?: string }) => {
      assert.equal(err.code, 'KEY_NOT_FOUND');
      assert.match(err.message, /found as public key only/);
      assert.match(err.hint ?? '', /--sign-with gpg/);
      return true;
    });
  });

  it('accepts a fingerprint or key id, with or without 0x, any case', async () => {
    const kr = await ring('john-secring.gpg', 'jane-secring.gpg');
    const jane = kr.privateKeys.find((k) => k.getUserIDs()[0]!.startsWith('Jane'))!;
    const fpr = jane.getFingerprint().toUpperCase();
    for (const name of [fpr, fpr.toLowerCase(), fpr.slice(-16), `0x${fpr.slice(-16)}`, `0x${fpr.slice(-16).toLowerCase()}`]) {
      assert.equal((await selectSigningKey(kr, name)).fingerprint, fpr, name);
    }
    await assert.rejects(selectSigningKey(kr, fpr.slice(-12)), { code: 'KEY_NOT_FOUND' }, 'a 12-hex fragment is not an id');
  });
});

describe('selectSigningKey: keys that cannot sign', () => {
  it('an expired key is KEY_EXPIRED with the expiry date', async () => {
    await assert.rejects(
      selectSigningKey(await ring('expired-secring.gpg'), 'Ed Expired'),
      (err: Error & { code?: string; hint?: string }) => {
        assert.equal(err.code, 'KEY_EXPIRED');
        assert.match(err.message, /^key Ed Expired <expired@example\.com> \([0-9A-F]{40}\) expired on 2020-01-02T00:00:00Z$/);
        assert.match(err.hint ?? '', /gpg --quick-set-expire [0-9A-F]{40} 1y/);
        return true;
      },
    );
  });

  it('judges expiry at opts.now', async () => {
    const s = await selectSigningKey(await ring('expired-secring.gpg'), 'Ed Expired', { now: new Date('2020-01-01T12:00:00Z') });
    assert.equal(s.userId, 'Ed Expired <expired@example.com>');
  });

  it('several matches are KEY_AMBIGUOUS even when only one could sign; the list says which are expired', async () => {
    const kr = await ring('expired-secring.gpg', 'john-secring.gpg');
    await assert.rejects(selectSigningKey(kr, '@example.com'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_AMBIGUOUS');
      assert.match(err.message, /Ed Expired <expired@example\.com> \([0-9A-F]{40}\) \[expired\]/);
      assert.match(err.message, /John The Signer <john@example\.com> \([0-9A-F]{40}\)(;|$)/);
      return true;
    });
    await assert.rejects(selectSigningKey(kr, undefined), { code: 'KEY_AMBIGUOUS' });
    // Named precisely, the usable key is taken.
    const john = kr.privateKeys.find((k) => k.getUserIDs()[0]!.startsWith('John'))!;
    assert.equal((await selectSigningKey(kr, john.getFingerprint())).userId, 'John The Signer <john@example.com>');
    assert.equal((await selectSigningKey(kr, 'John The Signer <john@example.com>')).fingerprint, john.getFingerprint().toUpperCase());
  });

  it('an exact user id shared by an old and a new key is KEY_AMBIGUOUS; the fingerprint is not', async () => {
    const old = await quickKey('Ann Rotated', 'ann@example.com');
    const { privateKey: revokedOld } = await revokeKey({ key: old, format: 'object' });
    const current = await quickKey('Ann Rotated', 'ann@example.com');
    const kr = ringOf(revokedOld, current);
    await assert.rejects(selectSigningKey(kr, 'Ann Rotated <ann@example.com>'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_AMBIGUOUS');
      assert.match(err.message, /matches 2 keys/);
      assert.match(err.message, /\[revoked\]/);
      return true;
    });
    for (const name of [current.getFingerprint(), current.getKeyID().toHex()]) {
      assert.equal((await selectSigningKey(kr, name)).fingerprint, current.getFingerprint().toUpperCase(), name);
    }
    await assert.rejects(selectSigningKey(kr, revokedOld.getFingerprint()), { code: 'KEY_REVOKED' });
  });

  it('a revoked key is KEY_REVOKED', async () => {
    const key = await quickKey('Rita Revoked', 'rita@example.com');
    const { privateKey: revoked } = await revokeKey({ key, format: 'binary' });
    const file = join(work, 'revoked-secring.gpg');
    await writeFile(file, revoked);
    const kr = await loadKeyring([file]);
    await assert.rejects(selectSigningKey(kr, 'Rita'), { code: 'KEY_REVOKED' });
  });

  it('a certify-only primary signs with its signing subkey (Sam)', async () => {
    const kr = await ring('sam-secring.gpg');
    const s = await selectSigningKey(kr, 'Sam');
    const sam = kr.privateKeys[0]!;
    assert.equal(sam.subkeys.length, 1);
    assert.equal(s.signingKeyId, sam.subkeys[0]!.getKeyID().toHex().toUpperCase());
    assert.notEqual(s.signingKeyId, sam.getKeyID().toHex().toUpperCase());
    assert.equal(s.fingerprint, sam.getFingerprint().toUpperCase(), 'fingerprint stays the primary one');
    assert.equal(s.algorithm, 'ed25519');
    // Naming the subkey by its fingerprint selects the same key and subkey.
    const bySub = await selectSigningKey(kr, sam.subkeys[0]!.getFingerprint());
    assert.equal(bySub.signingKeyId, s.signingKeyId);
  });

  it('a primary that can sign is kept even when a signing subkey exists (as Helm signs)', async () => {
    const { privateKey } = await generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'Both', email: 'both@example.com' }],
      subkeys: [{ sign: true }],
      format: 'object',
    });
    assert.equal(
      (await privateKey.getSigningKey()).getKeyID().equals(privateKey.subkeys[0]!.getKeyID()),
      true,
      'openpgp alone would pick the subkey',
    );
    const s = await selectSigningKey(ringOf(privateKey), 'Both');
    assert.equal(s.signingKeyId, privateKey.getKeyID().toHex().toUpperCase());
  });

  it('a key with no signing capability at all is KEY_CANNOT_SIGN', async () => {
    const sam = await fixtureKey('sam');
    sam.subkeys = []; // what is left: a certify-only primary
    await assert.rejects(selectSigningKey(ringOf(sam), 'Sam'), { code: 'KEY_CANNOT_SIGN' });
  });

  it('Ed25519 (Eddie) is selected with its primary key', async () => {
    const s = await selectSigningKey(await ring('eddie-secring.gpg'), 'Eddie Curve <eddie@example.com>');
    assert.equal(s.algorithm, 'ed25519');
    assert.equal(s.signingKeyId, s.fingerprint.slice(-16));
  });

  it('selection works on a still-encrypted key', async () => {
    const s = await selectSigningKey(await ring('pat-secring.gpg'), 'Pat');
    assert.equal(isKeyEncrypted(s.key), true);
  });
});

describe('unlockKey', () => {
  it("decrypts Pat's key with 'correct horse' and leaves the original locked", async () => {
    const pat = await fixtureKey('pat');
    assert.equal(isKeyEncrypted(pat), true);
    const unlocked = await unlockKey(pat, 'correct horse');
    assert.equal(isKeyEncrypted(unlocked), false);
    assert.equal(unlocked.isDecrypted(), true);
    assert.equal(isKeyEncrypted(pat), true);
  });

  it('a wrong passphrase is PASSPHRASE_WRONG, none is PASSPHRASE_REQUIRED', async () => {
    const pat = await fixtureKey('pat');
    await assert.rejects(unlockKey(pat, 'wrong horse'), { code: 'PASSPHRASE_WRONG' });
    await assert.rejects(unlockKey(pat, ''), { code: 'PASSPHRASE_WRONG' });
    await assert.rejects(unlockKey(pat, undefined), (err: Error & { code?: string; hint?: string }) => {
      assert.equal(err.code, 'PASSPHRASE_REQUIRED');
      assert.match(err.hint ?? '', /--passphrase-file/);
      assert.match(err.hint ?? '', /CHARTPROV_PASSPHRASE/);
      return true;
    });
  });

  it('an unprotected key is returned as is, passphrase or not', async () => {
    const john = await fixtureKey('john');
    assert.equal(isKeyEncrypted(john), false);
    assert.equal(await unlockKey(john, undefined), john);
    assert.equal(await unlockKey(john, 'anything'), john);
  });

  it('the unlocked key really signs', async () => {
    const { createCleartextMessage, sign, readCleartextMessage, verify } = await import('openpgp');
    const unlocked = await unlockKey(await fixtureKey('pat'), 'correct horse');
    const signed = await sign({ message: await createCleartextMessage({ text: 'hello' }), signingKeys: unlocked });
    const [pub] = await readKeys({ binaryKeys: new Uint8Array(await readFile(keyFile('pat-pubring.gpg'))) });
    const { signatures } = await verify({ message: await readCleartextMessage({ cleartextMessage: signed }), verificationKeys: pub! });
    assert.equal(await signatures[0]!.verified, true);
  });
});
