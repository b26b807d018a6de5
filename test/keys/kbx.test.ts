// The keybox parser against gpg's own file and against hostile bytes: it must
// find every key, skip what gpg hides, and fail with KEYRING_UNREADABLE (never
// a RangeError, never bytes from outside the buffer) on anything malformed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { readKeys } from 'openpgp';
import { isKeybox, keyblocksFromKeybox } from '../../src/keys/index.js';
import { keyFile } from '../peers/paths.js';

const kbxPath = keyFile('gnupg-home/pubring.kbx');

async function fixtureKbx(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(kbxPath));
}

async function fingerprintsOf(blocks: Uint8Array[]): Promise<string[]> {
  const out: string[] = [];
  for (const block of blocks) for (const key of await readKeys({ binaryKeys: block })) out.push(key.getFingerprint());
  return out;
}

/** Offsets of every blob after the header, from the length fields. */
function blobOffsets(data: Uint8Array): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const offsets: number[] = [];
  for (let pos = 0; pos < data.length; pos += view.getUint32(pos)) offsets.push(pos);
  return offsets.slice(1);
}

function assertKeyringError(fn: () => unknown, what: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'KEYRING_UNREADABLE', `${what}: ${String(err)}`);
    return true;
  });
}

describe('keybox (pubring.kbx)', () => {
  it('recognises a keybox by content and nothing else', async () => {
    assert.equal(isKeybox(await fixtureKbx()), true);
    assert.equal(isKeybox(new Uint8Array(await readFile(keyFile('all-pubring.gpg')))), false);
    assert.equal(isKeybox(new TextEncoder().encode('-----BEGIN PGP PUBLIC KEY BLOCK-----\n')), false);
    assert.equal(isKeybox(new Uint8Array(0)), false);
    assert.equal(isKeybox(new Uint8Array(11)), false);
  });

  it('yields the keyblocks of all six people, as in all-pubring.gpg', async () => {
    const blocks = keyblocksFromKeybox(await fixtureKbx());
    assert.equal(blocks.length, 6);
    const fromKbx = await fingerprintsOf(blocks);
    const expected = (await readKeys({ binaryKeys: new Uint8Array(await readFile(keyFile('all-pubring.gpg'))) })).map((k) =>
      k.getFingerprint(),
    );
    assert.deepEqual([...fromKbx].sort(), [...expected].sort());
  });

  it('skips deleted (type 0), X.509 (type 3) and ephemeral blobs', async () => {
    const data = await fixtureKbx();
    const [first, second, third] = blobOffsets(data);
    data[first! + 4] = 0; // deleted
    data[second! + 4] = 3; // X.509
    data[third! + 7]! |= 0x02; // ephemeral flag
    assert.equal(keyblocksFromKeybox(data).length, 3);
  });

  it('rejects data that is not a keybox', () => {
    assertKeyringError(() => keyblocksFromKeybox(new Uint8Array(0)), 'empty');
    assertKeyringError(() => keyblocksFromKeybox(new TextEncoder().encode('hello, this is not a keybox at all')), 'text');
  });

  it('rejects every truncation with KEYRING_UNREADABLE, or returns the whole blobs before the cut', async () => {
    const data = await fixtureKbx();
    const starts = blobOffsets(data); // every blob after the header is an OpenPGP one here
    for (let cut = 0; cut < data.length; cut++) {
      const part = data.slice(0, cut);
      if (starts.includes(cut)) {
        assert.equal(keyblocksFromKeybox(part).length, starts.filter((s) => s < cut).length, `cut at ${cut}`);
        continue;
      }
      assertKeyringError(() => keyblocksFromKeybox(part), `cut at ${cut}`);
    }
  });

  it('rejects lengths and offsets that point outside the data', async () => {
    const base = await fixtureKbx();
    const [first] = blobOffsets(base);
    const view = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset, d.byteLength);
    const cases: Array<[string, (d: Uint8Array) => void]> = [
      ['blob length past the end', (d) => view(d).setUint32(first!, 0xffffffff)],
      ['blob length too small', (d) => view(d).setUint32(first!, 2)],
      ['blob length zero', (d) => view(d).setUint32(first!, 0)],
      ['keyblock offset past the blob', (d) => view(d).setUint32(first! + 8, 0x7fffffff)],
      ['keyblock length past the blob', (d) => view(d).setUint32(first! + 12, 0xfffffff0)],
      ['keyblock offset inside the fixed header', (d) => view(d).setUint32(first! + 8, 4)],
      ['unknown OpenPGP blob version', (d) => (d[first! + 5] = 9)],
      ['second header blob', (d) => (d[first! + 4] = 1)],
    ];
    for (const [what, mutate] of cases) {
      const data = base.slice();
      mutate(data);
      assertKeyringError(() => keyblocksFromKeybox(data), what);
    }
  });

  it('survives random corruption: a result inside the buffer or KEYRING_UNREADABLE', async () => {
    const base = await fixtureKbx();
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const data = base.slice();
      for (let i = 0; i <= rand(4); i++) data[rand(data.length)] = rand(256);
      try {
        for (const block of keyblocksFromKeybox(data)) {
          assert.equal(block.buffer, data.buffer, 'keyblocks are views into the input');
          assert.ok(block.byteOffset + block.byteLength <= data.byteOffset + data.byteLength);
        }
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'KEYRING_UNREADABLE', `round ${round}: ${String(err)}`);
      }
    }
  });
});
