// describeKey reports what gpg --list-keys would, plus what Helm 3 can load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeKey, formatUserId, isHelm3Compatible, loadKeyring, primaryUserId } from '../../src/keys/index.js';
import { keyFile } from '../peers/paths.js';

const ring = (...files: string[]) => loadKeyring(files.map((f) => keyFile(f)));

describe('describeKey', () => {
  it('john: rsa2048, certify+sign, no expiry, secret available, Helm 3 can use it', async () => {
    const kr = await ring('john-secring.gpg');
    const info = await describeKey(kr.privateKeys[0]!, kr);
    assert.equal(info.algorithm, 'rsa2048');
    assert.deepEqual(info.userIds, ['John The Signer <john@example.com>']);
    assert.equal(info.fingerprint, kr.privateKeys[0]!.getFingerprint().toUpperCase());
    assert.equal(info.keyId, info.fingerprint.slice(-16));
    assert.deepEqual(info.capabilities, { certify: true, sign: true, encrypt: false });
    assert.equal(info.expires, null);
    assert.equal(info.expired, false);
    assert.equal(info.revoked, false);
    assert.deepEqual(info.subkeys, []);
    assert.equal(info.secret, 'available');
    assert.equal(info.helm3Compatible, true);
    assert.equal(info.created, kr.privateKeys[0]!.getCreationTime().toISOString());
  });

  it('sam: certify-only primary, signing subkey', async () => {
    const kr = await ring('sam-pubring.gpg');
    const info = await describeKey(kr.publicKeys[0]!, kr);
    assert.deepEqual(info.capabilities, { certify: true, sign: false, encrypt: false });
    assert.equal(info.subkeys.length, 1);
    assert.deepEqual(info.subkeys[0]!.capabilities, { sign: true, encrypt: false });
    assert.equal(info.subkeys[0]!.algorithm, 'ed25519');
    assert.equal(info.subkeys[0]!.keyId, kr.publicKeys[0]!.subkeys[0]!.getKeyID().toHex().toUpperCase());
    assert.equal(info.secret, 'none');
  });

  it('expired: the expiry date and expired flag (and not before it)', async () => {
    const kr = await ring('expired-pubring.gpg');
    const info = await describeKey(kr.publicKeys[0]!, kr);
    assert.equal(info.expires, '2020-01-02T00:00:00.000Z');
    assert.equal(info.expired, true);
    assert.deepEqual(info.capabilities, { certify: true, sign: true, encrypt: false });
    const before = await describeKey(kr.publicKeys[0]!, kr, new Date('2020-01-01T12:00:00Z'));
    assert.equal(before.expired, false);
  });

  it('eddie: ed25519, not Helm 3 compatible', async () => {
    const kr = await ring('eddie-pubring.gpg');
    const info = await describeKey(kr.publicKeys[0]!);
    assert.equal(info.algorithm, 'ed25519');
    assert.equal(info.helm3Compatible, false);
    assert.equal(info.secret, 'none');
  });

  it("secret: 'agent' for keys whose secret gpg-agent holds", async () => {
    const kr = await ring('gnupg-home');
    for (const key of kr.publicKeys) assert.equal((await describeKey(key, kr)).secret, 'agent');
    const merged = await ring('gnupg-home', 'pat-secring.gpg');
    const pat = merged.publicKeys.find((k) => k.getUserIDs()[0]!.startsWith('Pat'))!;
    assert.equal((await describeKey(pat, merged)).secret, 'available', 'the public half of a loaded secret key');
  });
});

describe('formatUserId', () => {
  it('writes the user id the way gpg does', () => {
    assert.equal(formatUserId({ name: 'Chart Signer', email: 'ci@example.com' }), 'Chart Signer <ci@example.com>');
    assert.equal(formatUserId({ name: 'Chart Signer', comment: 'CI', email: 'ci@example.com' }), 'Chart Signer (CI) <ci@example.com>');
    assert.equal(formatUserId({ name: 'Chart Signer' }), 'Chart Signer');
  });
});

describe('isHelm3Compatible', () => {
  it('RSA keys yes; Ed25519 primaries and Ed25519 subkeys no (Helm 3 cannot load the whole key)', async () => {
    const kr = await ring('john-pubring.gpg', 'jane-pubring.gpg', 'eddie-pubring.gpg', 'sam-pubring.gpg');
    const by = (name: string) => kr.publicKeys.find((k) => k.getUserIDs()[0]!.startsWith(name))!;
    assert.equal(isHelm3Compatible(by('John')), true);
    assert.equal(isHelm3Compatible(by('Jane')), true);
    assert.equal(isHelm3Compatible(by('Eddie')), false);
    assert.equal(isHelm3Compatible(by('Sam')), false);
    for (const key of kr.publicKeys) assert.equal((await describeKey(key)).helm3Compatible, isHelm3Compatible(key));
  });
});

describe('primaryUserId', () => {
  it('the primary user id, also of an expired key', async () => {
    const [john] = (await ring('john-pubring.gpg')).publicKeys;
    assert.equal(await primaryUserId(john!), 'John The Signer <john@example.com>');
    const [expired] = (await ring('expired-pubring.gpg')).publicKeys;
    assert.equal(await primaryUserId(expired!), 'Ed Expired <expired@example.com>');
  });
});
