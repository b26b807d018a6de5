// Splits a binary keyring into one keyblock per key before openpgp sees it.
// openpgp.readKeys parses a whole ring in one go: one key it cannot read
// (an old v3 key, an unknown algorithm) fails the lot, and when it drops an
// unsupported primary packet the user ids that follow end up attached to the
// previous key. Splitting first lets us skip just the unreadable key and
// keeps every user id with its own key.
import { KeyringError } from '../errors.js';

const TAG_SECRET_KEY = 5;
const TAG_PUBLIC_KEY = 6;
/** gpg 1.x keeps local trust packets in pubring.gpg; they are not part of a transferable key. */
const TAG_TRUST = 12;

interface PacketHeader {
  tag: number;
  /** Offset of the packet's body. */
  bodyStart: number;
  /** Offset just past the packet. */
  end: number;
}

function readHeader(data: Uint8Array, pos: number): PacketHeader {
  const first = data[pos]!;
  if ((first & 0x80) === 0) {
    throw new KeyringError(`not an OpenPGP packet at byte ${pos} (tag byte does not have MSB set)`);
  }
  const need = (n: number): void => {
    if (pos + n > data.length) throw new KeyringError(`truncated OpenPGP packet header at byte ${pos}`);
  };
  let tag: number;
  let length: number;
  let headerLength: number;
  if (first & 0x40) {
    // New format: length octets per RFC 4880 §4.2.2.
    tag = first & 0x3f;
    need(2);
    const l1 = data[pos + 1]!;
    if (l1 < 192) {
      length = l1;
      headerLength = 2;
    } else if (l1 < 224) {
      need(3);
      length = ((l1 - 192) << 8) + data[pos + 2]! + 192;
      headerLength = 3;
    } else if (l1 === 255) {
      need(6);
      length = readUint32(data, pos + 2);
      headerLength = 6;
    } else {
      // Partial lengths are for streamed data packets; a keyring never has them.
      throw new KeyringError(`unexpected partial-length packet at byte ${pos} in a keyring`);
    }
  } else {
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 0x03;
    if (lengthType === 3) {
      // Indeterminate length: the packet runs to the end of the data.
      length = data.length - pos - 1;
      headerLength = 1;
    } else {
      const octets = 1 << lengthType;
      need(1 + octets);
      length = 0;
      for (let i = 0; i < octets; i++) length = length * 256 + data[pos + 1 + i]!;
      headerLength = 1 + octets;
    }
  }
  const end = pos + headerLength + length;
  if (end > data.length) {
    throw new KeyringError(`truncated OpenPGP packet at byte ${pos}: needs ${length} bytes, ${data.length - pos - headerLength} left`);
  }
  return { tag, bodyStart: pos + headerLength, end };
}

export function readUint32(data: Uint8Array, pos: number): number {
  return ((data[pos]! << 24) >>> 0) + (data[pos + 1]! << 16) + (data[pos + 2]! << 8) + data[pos + 3]!;
}

/**
 * One byte array per transferable key (each starts with a public- or
 * secret-key packet), trust packets removed. Throws KeyringError on a broken
 * packet stream or data before the first key.
 */
export function splitKeyblocks(data: Uint8Array): Uint8Array[] {
  const blocks: Uint8Array[][] = [];
  let pos = 0;
  while (pos < data.length) {
    const { tag, end } = readHeader(data, pos);
    if (tag === TAG_PUBLIC_KEY || tag === TAG_SECRET_KEY) {
      blocks.push([]);
    } else if (blocks.length === 0) {
      throw new KeyringError(`keyring does not start with a key packet (found packet type ${tag})`);
    }
    if (tag !== TAG_TRUST) blocks[blocks.length - 1]!.push(data.subarray(pos, end));
    pos = end;
  }
  return blocks.map(concatBytes);
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
