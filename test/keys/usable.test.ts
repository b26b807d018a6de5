// assertKeyUsable: the one rule (and wording) for revoked and expired keys,
// shared by key selection, signing and verification.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generateKey, revokeKey, type PrivateKey } from 'openpgp';
import { assertKeyUsable } from '../../src/keys/index.js';

const t0 = new Date('2030-01-01T00:00:00Z');
const hour = 3600_000;
const at = (hours: number): Date => new Date(t0.getTime() + hours * hour);

type Coded = Error & { code?: string; hint?: string };

describe('assertKeyUsable', () => {
  let dayKey: PrivateKey; // expires after 24 h
  let subKey: PrivateKey; // primary never expires, its signing subkey after 1 h
  before(async () => {
    ({ privateKey: dayKey } = await generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'Day Key', email: 'day@example.com' }],
      date: t0,
      keyExpirationTime: 24 * 3600,
      format: 'object',
    }));
    ({ privateKey: subKey } = await generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'Sub Key', email: 'sub@example.com' }],
      date: t0,
      subkeys: [{ sign: true, keyExpirationTime: 3600 }],
      format: 'object',
    }));
  });

  it('a valid key passes, for either purpose', async () => {
    await assertKeyUsable(dayKey, { purpose: 'sign', now: at(1) });
    await assertKeyUsable(dayKey, { purpose: 'verify', now: at(1), signedAt: at(0.5) });
  });

  it('an expired key: one message for both purposes, ISO date to the second, a hint for each', async () => {
    const messages: string[] = [];
    for (const purpose of ['sign', 'verify'] as const) {
      await assert.rejects(assertKeyUsable(dayKey, { purpose, now: at(48) }), (err: Coded) => {
        assert.equal(err.code, 'KEY_EXPIRED');
        assert.match(err.message, /^key Day Key <day@example\.com> \([0-9A-F]{40}\) expired on 2030-01-02T00:00:00Z$/);
        assert.match(err.hint!, purpose === 'sign' ? /--quick-set-expire/ : /publisher/);
        messages.push(err.message);
        return true;
      });
    }
    assert.equal(messages[0], messages[1]);
  });

  it('verify: a key that had expired when the signature was made says so', async () => {
    await assert.rejects(assertKeyUsable(dayKey, { purpose: 'verify', now: at(48), signedAt: at(30) }), (err: Coded) => {
      assert.equal(err.code, 'KEY_EXPIRED');
      assert.match(err.message, /expired on 2030-01-02T00:00:00Z, before the signature was made on 2030-01-02T06:00:00Z$/);
      return true;
    });
  });

  it('a revoked key is KEY_REVOKED, before any expiry', async () => {
    const { privateKey: revoked } = await revokeKey({ key: dayKey, date: at(1), format: 'object' });
    for (const purpose of ['sign', 'verify'] as const) {
      await assert.rejects(assertKeyUsable(revoked, { purpose, now: at(48), userId: 'Day Key <day@example.com>' }), (err: Coded) => {
        assert.equal(err.code, 'KEY_REVOKED');
        assert.match(err.message, /^key Day Key <day@example\.com> \([0-9A-F]{40}\) is revoked$/);
        assert.match(err.hint!, purpose === 'sign' ? /--key/ : /do not trust/);
        return true;
      });
    }
  });

  it('checks the given subkey too, naming it', async () => {
    const subkey = subKey.subkeys[0]!;
    await assertKeyUsable(subKey, { purpose: 'verify', now: at(0.5), subkey });
    await assertKeyUsable(subKey, { purpose: 'verify', now: at(2) }); // the primary alone is fine
    await assert.rejects(assertKeyUsable(subKey, { purpose: 'verify', now: at(2), subkey }), (err: Coded) => {
      assert.equal(err.code, 'KEY_EXPIRED');
      const id = subkey.getKeyID().toHex().toUpperCase();
      assert.match(
        err.message,
        new RegExp(`^subkey ${id} of key Sub Key <sub@example\\.com> \\([0-9A-F]{40}\\) expired on 2030-01-01T01:00:00Z$`),
      );
      return true;
    });
  });
});
