// loadKeyring against every format on disk: the fixtures real gpg wrote, and
// a gpg home the real gpg fills during the test.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readKeys } from 'openpgp';
import { defaultKeyringPaths, keygripsOf, loadKeyring, parseKeyringData } from '../../src/keys/index.js';
import type { Keyring } from '../../src/keys/index.js';
import { tempGpg } from '../peers/gpg.js';
import type { Gpg } from '../peers/gpg.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

const PEOPLE = ['john', 'pat', 'jane', 'eddie', 'sam', 'expired'];

/** Fingerprint of a fixture key, read from its file (they change when fixtures are regenerated). */
async function fpr(who: string): Promise<string> {
  const [key] = await readKeys({ binaryKeys: new Uint8Array(await readFile(keyFile(`${who}-pubring.gpg`))) });
  return key!.getFingerprint().toUpperCase();
}

const fprs = (keys: Keyring['publicKeys']) => keys.map((k) => k.getFingerprint().toUpperCase()).sort();

let work: string;
let cleanup: () => Promise<void>;
let all: string[];

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-keyring-'));
  all = (await Promise.all(PEOPLE.map(fpr))).sort();
});
after(() => cleanup());

describe('loadKeyring: formats', () => {
  for (const [file, secret] of [
    ['john-pubring.gpg', false],
    ['john-secring.gpg', true],
    ['john-pub.asc', false],
    ['john-sec.asc', true],
  ] as const) {
    it(`reads ${file}`, async () => {
      const kr = await loadKeyring([keyFile(file)]);
      assert.deepEqual(fprs(kr.publicKeys), [await fpr('john')]);
      assert.equal(kr.privateKeys.length, secret ? 1 : 0);
      if (secret) assert.equal(kr.privateKeys[0]!.getFingerprint().toUpperCase(), await fpr('john'));
      assert.deepEqual(kr.sources, [keyFile(file)]);
      assert.deepEqual(kr.publicKeys[0]!.getUserIDs(), ['John The Signer <john@example.com>']);
      assert.equal(kr.publicKeys[0]!.isPrivate(), false, 'public halves carry no secret');
    });
  }

  it('reads all-pubring.gpg: six public keys', async () => {
    const kr = await loadKeyring([keyFile('all-pubring.gpg')]);
    assert.deepEqual(fprs(kr.publicKeys), all);
    assert.equal(kr.privateKeys.length, 0);
    assert.deepEqual(kr.agentOnlyFingerprints, []);
  });

  it('reads pubring.kbx given directly', async () => {
    const kr = await loadKeyring([keyFile('gnupg-home/pubring.kbx')]);
    assert.deepEqual(fprs(kr.publicKeys), all);
    assert.deepEqual(kr.agentOnlyFingerprints, [], 'a lone .kbx says nothing about the agent');
  });

  it('reads a gpg home folder and marks keys whose secret is in private-keys-v1.d', async () => {
    const kr = await loadKeyring([keyFile('gnupg-home')]);
    assert.deepEqual(fprs(kr.publicKeys), all);
    assert.equal(kr.privateKeys.length, 0);
    assert.deepEqual([...kr.agentOnlyFingerprints].sort(), all);
    assert.deepEqual(kr.sources, [keyFile('gnupg-home/pubring.kbx')]);
  });

  it('the keygrips we compute are the file names gpg-agent uses', async () => {
    const kr = await loadKeyring([keyFile('gnupg-home/pubring.kbx')]);
    const grips = kr.publicKeys.flatMap(keygripsOf);
    assert.equal(grips.length, 7, "six primaries and Sam's subkey");
    const files = (await readdir(keyFile('gnupg-home/private-keys-v1.d'))).map((f) => f.replace(/\.key$/, ''));
    assert.deepEqual([...grips].sort(), [...files].sort());
  });

  it('merges several paths by fingerprint, preferring the secret key', async () => {
    const kr = await loadKeyring([keyFile('all-pubring.gpg'), keyFile('john-secring.gpg'), keyFile('gnupg-home'), keyFile('john-pub.asc')]);
    assert.deepEqual(fprs(kr.publicKeys), all, 'no duplicates');
    assert.deepEqual(fprs(kr.privateKeys), [await fpr('john')]);
    assert.equal(kr.agentOnlyFingerprints.length, 5);
    assert.ok(!kr.agentOnlyFingerprints.includes(await fpr('john')), 'john has his secret key loaded');
    assert.equal(kr.sources.length, 4);
  });

  it('reads an armored file with several blocks (public and private) and prose around them', async () => {
    const text = [
      'Keys of the project, see KEYS policy.',
      await readFile(keyFile('jane-pub.asc'), 'utf8'),
      'and the signer:',
      await readFile(keyFile('eddie-sec.asc'), 'utf8'),
    ].join('\n');
    const file = join(work, 'KEYS');
    await writeFile(file, text);
    const kr = await loadKeyring([file]);
    assert.deepEqual(fprs(kr.publicKeys), [await fpr('jane'), await fpr('eddie')].sort());
    assert.deepEqual(fprs(kr.privateKeys), [await fpr('eddie')]);
  });

  it('detects the format by content, not by file name', async () => {
    const file = join(work, 'looks-binary.gpg');
    await copyFile(keyFile('pat-sec.asc'), file);
    const asc = join(work, 'looks-armored.asc');
    await copyFile(keyFile('gnupg-home/pubring.kbx'), asc);
    const kr = await loadKeyring([file, asc]);
    assert.deepEqual(fprs(kr.publicKeys), all);
    assert.deepEqual(fprs(kr.privateKeys), [await fpr('pat')]);
  });

  it('skips one unreadable key in a binary keyring and keeps the others, with a warning', async () => {
    const bogus = Uint8Array.from([0xc6, 0x05, 0x09, 0, 0, 0, 0]); // public-key packet of unknown version 9
    const gpg1Trust = Uint8Array.from([0xb0, 0x02, 0x00, 0x00]); // gpg 1.x trust packet (old format, tag 12)
    const john = new Uint8Array(await readFile(keyFile('john-pubring.gpg')));
    const jane = new Uint8Array(await readFile(keyFile('jane-pubring.gpg')));
    const data = new Uint8Array([...john, ...gpg1Trust, ...bogus, ...jane]);
    const parsed = await parseKeyringData(data, 'mixed.gpg');
    assert.deepEqual(parsed.keys.map((k) => k.getFingerprint().toUpperCase()).sort(), [await fpr('john'), await fpr('jane')].sort());
    assert.equal(parsed.warnings.length, 1);
    assert.match(parsed.warnings[0]!, /mixed\.gpg: skipped key #2/);
    // The user id after the bad key stays with jane, not with john.
    assert.deepEqual(
      parsed.keys
        .map((k) => k.getUserIDs())
        .flat()
        .sort(),
      ['Jane Other <jane@example.com>', 'John The Signer <john@example.com>'],
    );
  });

  it('an empty keyring file is an empty keyring', async () => {
    const file = join(work, 'empty.gpg');
    await writeFile(file, '');
    const kr = await loadKeyring([file]);
    assert.equal(kr.publicKeys.length, 0);
  });
});

describe('loadKeyring: errors', () => {
  it('a missing path is FILE_NOT_FOUND naming it', async () => {
    const missing = join(work, 'nope', 'pubring.gpg');
    await assert.rejects(loadKeyring([missing]), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FILE_NOT_FOUND');
      assert.match(err.message, /keyring not found/);
      assert.ok(err.message.includes(missing));
      return true;
    });
  });

  it('garbage is KEYRING_UNREADABLE naming the file, with a hint', async () => {
    const cases: Array<[string, string | Uint8Array]> = [
      ['text.gpg', 'this is not a keyring\n'],
      ['sig.asc', '-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n'],
      ['truncated.gpg', (await readFile(keyFile('john-secring.gpg'))).subarray(0, 300)],
      ['bad-kbx', (await readFile(keyFile('gnupg-home/pubring.kbx'))).subarray(0, 100)],
      ['no-key-first.gpg', Uint8Array.from([0xb4, 0x03, 0x41, 0x42, 0x43])], // a user id packet alone
      ['bad-key.gpg', Uint8Array.from([0xc6, 0x05, 0x09, 0, 0, 0, 0])],
    ];
    for (const [name, content] of cases) {
      const file = join(work, name);
      await writeFile(file, content);
      await assert.rejects(loadKeyring([file]), (err: Error & { code?: string; hint?: string }) => {
        assert.equal(err.code, 'KEYRING_UNREADABLE', `${name}: ${err.message}`);
        assert.ok(err.message.includes(file), `${name}: message names the file: ${err.message}`);
        assert.ok(err.hint, `${name}: has a hint`);
        return true;
      });
    }
  });

  it('a cut-off binary keyring yields whole keys or KEYRING_UNREADABLE, nothing else', async () => {
    const data = new Uint8Array(await readFile(keyFile('all-pubring.gpg')));
    for (let cut = 1; cut < data.length; cut += 7) {
      try {
        const { keys } = await parseKeyringData(data.subarray(0, cut), 'cut.gpg');
        assert.ok(keys.length <= 6);
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'KEYRING_UNREADABLE', `cut at ${cut}: ${String(err)}`);
      }
    }
  });

  it('a folder without any keyring is KEYRING_UNREADABLE', async () => {
    const dir = join(work, 'empty-home');
    await mkdir(dir);
    await assert.rejects(loadKeyring([dir]), { code: 'KEYRING_UNREADABLE' });
  });
});

describe('defaultKeyringPaths', () => {
  it('prefers $GNUPGHOME/pubring.gpg (Helm), with secring.gpg beside it', async () => {
    const home = join(work, 'legacy-home');
    await mkdir(home);
    await copyFile(keyFile('john-pubring.gpg'), join(home, 'pubring.gpg'));
    assert.deepEqual(defaultKeyringPaths({ GNUPGHOME: home }), [join(home, 'pubring.gpg')]);
    await copyFile(keyFile('john-secring.gpg'), join(home, 'secring.gpg'));
    assert.deepEqual(defaultKeyringPaths({ GNUPGHOME: home }), [join(home, 'pubring.gpg'), join(home, 'secring.gpg')]);
  });

  it('falls back to the gpg home folder when only pubring.kbx exists', () => {
    assert.deepEqual(defaultKeyringPaths({ GNUPGHOME: keyFile('gnupg-home') }), [keyFile('gnupg-home')]);
  });

  it('uses ~/.gnupg without GNUPGHOME, and returns nothing when there is no keyring', async () => {
    const home = join(work, 'user-home');
    await mkdir(join(home, '.gnupg'), { recursive: true });
    assert.deepEqual(defaultKeyringPaths({ HOME: home }), []);
    await copyFile(keyFile('gnupg-home/pubring.kbx'), join(home, '.gnupg', 'pubring.kbx'));
    assert.deepEqual(defaultKeyringPaths({ HOME: home }), [join(home, '.gnupg')]);
  });
});

describe('loadKeyring: a gpg home written by the real gpg', () => {
  let gpg: Gpg;
  before(async () => {
    gpg = await tempGpg();
  });
  after(() => gpg.close());

  it('finds the keys gpg imported, with the fingerprints gpg prints, and what the agent holds', async () => {
    await gpg.ok(['--import', keyFile('jane-sec.asc')]); // secret goes to private-keys-v1.d
    await gpg.ok(['--import', keyFile('eddie-pubring.gpg')]); // public only
    const kr = await loadKeyring([gpg.home]);
    const jane = await gpg.fingerprint('jane@example.com');
    const eddie = await gpg.fingerprint('eddie@example.com');
    assert.deepEqual(fprs(kr.publicKeys), [jane, eddie].sort());
    assert.deepEqual(kr.sources, [join(gpg.home, 'pubring.kbx')]);
    assert.deepEqual(kr.agentOnlyFingerprints, [jane]);
  });

  it('computes the keygrips gpg prints for the key types it generates', async () => {
    await gpg.ok(['--passphrase', '', '--quick-gen-key', 'Future <future@example.com>', 'future-default', 'default', 'never']);
    await gpg.ok(['--passphrase', '', '--quick-gen-key', 'Nist <nist@example.com>', 'nistp256', 'default', 'never']);
    const nist = await gpg.fingerprint('nist@example.com');
    await gpg.ok(['--passphrase', '', '--quick-add-key', nist, 'nistp384', 'encr', 'never']);
    const listing = await gpg.ok(['--with-colons', '--with-keygrip', '--list-keys']);
    let current: string[] = [];
    const byKey = new Map<string, string[]>();
    for (const line of listing.split('\n')) {
      const f = line.split(':');
      if (f[0] === 'pub') current = [];
      if (f[0] === 'fpr' && current.length === 0 && !byKey.has(f[9]!)) byKey.set(f[9]!, current);
      if (f[0] === 'grp') current.push(f[9]!);
    }
    const kr = await loadKeyring([gpg.home]);
    for (const key of kr.publicKeys) {
      assert.deepEqual(keygripsOf(key), byKey.get(key.getFingerprint().toUpperCase()), key.getUserIDs()[0]);
    }
    assert.equal(kr.publicKeys.length, 4);
    // Keys generated in the home have their secret in the agent.
    assert.ok(kr.agentOnlyFingerprints.includes(nist));
    assert.ok(kr.agentOnlyFingerprints.includes(await gpg.fingerprint('future@example.com')));
    assert.ok(!kr.agentOnlyFingerprints.includes(await gpg.fingerprint('eddie@example.com')));
  });
});
