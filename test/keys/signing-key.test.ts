// readSigningKeyFromText: a secret key handed over as text (CHARTPROV_SIGNING_KEY
// in CI) or bytes becomes a keyring selectSigningKey can use.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { readSigningKeyFromText, selectSigningKey } from '../../src/keys/index.js';
import { keyFile } from '../peers/paths.js';

type Coded = Error & { code?: string; hint?: string };

const refused = (pattern: RegExp) => (err: Coded) => {
  assert.equal(err.code, 'KEYRING_UNREADABLE');
  assert.match(err.message, pattern);
  assert.match(err.hint ?? '', /gpg --export-secret-keys --armor/);
  assert.doesNotMatch(err.message, /\n/);
  return true;
};

describe('readSigningKeyFromText', () => {
  it('reads an armored secret key, as text or bytes, into a one-key keyring', async () => {
    const armored = await readFile(keyFile('john-sec.asc'), 'utf8');
    for (const input of [armored, new TextEncoder().encode(armored), `\n  ${armored}\n`]) {
      const kr = await readSigningKeyFromText(input, 'CHARTPROV_SIGNING_KEY');
      assert.equal(kr.privateKeys.length, 1);
      assert.equal(kr.publicKeys.length, 1);
      assert.equal(kr.publicKeys[0]!.isPrivate(), false);
      assert.deepEqual(kr.sources, ['CHARTPROV_SIGNING_KEY']);
      assert.deepEqual(kr.agentOnlyFingerprints, []);
      assert.equal((await selectSigningKey(kr, undefined)).userId, 'John The Signer <john@example.com>');
    }
  });

  it('reads a binary secret key, and a passphrase-protected one stays locked', async () => {
    const kr = await readSigningKeyFromText(new Uint8Array(await readFile(keyFile('pat-secring.gpg'))), 'pat');
    assert.equal(kr.privateKeys.length, 1);
    assert.equal(kr.privateKeys[0]!.isDecrypted(), false);
  });

  it('a public key is KEYRING_UNREADABLE saying it is not secret', async () => {
    const pub = await readFile(keyFile('john-pub.asc'), 'utf8');
    await assert.rejects(readSigningKeyFromText(pub, 'CHARTPROV_SIGNING_KEY'), refused(/^CHARTPROV_SIGNING_KEY holds only public keys/));
    const binary = new Uint8Array(await readFile(keyFile('john-pubring.gpg')));
    await assert.rejects(readSigningKeyFromText(binary, 'KEY'), refused(/^KEY holds only public keys/));
  });

  it('garbage or nothing is KEYRING_UNREADABLE naming the source, not its content', async () => {
    await assert.rejects(
      readSigningKeyFromText('s3cr3t-not-a-key\nline two', 'CHARTPROV_SIGNING_KEY'),
      (err: Coded) =>
        refused(/^CHARTPROV_SIGNING_KEY is not an OpenPGP secret key: not an OpenPGP keyring/)(err) && !err.message.includes('s3cr3t'),
    );
    await assert.rejects(readSigningKeyFromText('', 'CHARTPROV_SIGNING_KEY'), refused(/^CHARTPROV_SIGNING_KEY holds no key$/));
    await assert.rejects(
      readSigningKeyFromText('-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----\n', 'K'),
      refused(/^K is not an OpenPGP secret key: the armored file holds no PUBLIC or PRIVATE KEY BLOCK$/),
    );
  });
});
