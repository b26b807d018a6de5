// gpg 2.1+ keeps public keys in a "keybox" (pubring.kbx). No npm library
// reads it, and Helm cannot either (helm #32281), so we parse the container
// ourselves. Layout, from gpg's kbx/keybox-blob.c: a sequence of blobs, each
//   u32 length (whole blob, big-endian) | u8 type | u8 version | ...
// type 1 = header blob ("KBXf" magic at offset 8), 2 = OpenPGP, 3 = X.509,
// 0 = empty (a deleted blob gpg has not compacted away yet). An OpenPGP blob
// continues with u16 flags, u32 keyblock offset, u32 keyblock length (both
// relative to the blob start); the keyblock is a plain transferable public
// key. The rest of the blob (key/uid index, checksum) only serves gpg's
// search and is not needed here. Input may be hostile: every length is
// checked against the buffer before it is used.
import { KeyringError } from '../errors.js';
import { readUint32 } from './packets.js';

const BLOB_HEADER = 1;
const BLOB_OPENPGP = 2;
/** Blob flag: gpg stored the key only temporarily (e.g. while checking a signature); gpg hides it from listings. */
const FLAG_EPHEMERAL = 0x0002;
const MAGIC = [0x4b, 0x42, 0x58, 0x66]; // "KBXf"
/** u32 length + u8 type + u8 version: the smallest thing that can be a blob. */
const MIN_BLOB = 6;
/** Up to and including the keyblock length field of an OpenPGP blob. */
const OPENPGP_FIXED = 16;

/** True when the data starts with a keybox header blob. Checks content, not the file name. */
export function isKeybox(data: Uint8Array): boolean {
  if (data.length < 12) return false;
  const length = readUint32(data, 0);
  return length >= 12 && length <= data.length && data[4] === BLOB_HEADER && MAGIC.every((b, i) => data[8 + i] === b);
}

/**
 * The binary keyblock of every OpenPGP key in a keybox, in file order.
 * X.509 and unknown blobs, deleted and ephemeral ones are skipped.
 * Throws KeyringError on anything malformed; never reads past the buffer.
 */
export function keyblocksFromKeybox(data: Uint8Array): Uint8Array[] {
  if (!isKeybox(data)) {
    throw new KeyringError('not a gpg keybox: no "KBXf" header blob at the start');
  }
  const keyblocks: Uint8Array[] = [];
  let pos = 0;
  while (pos < data.length) {
    const left = data.length - pos;
    if (left < MIN_BLOB) {
      // gpg writes whole blobs only; a short tail means a cut-off file.
      throw new KeyringError(`keybox is truncated: ${left} stray bytes at offset ${pos}`);
    }
    const length = readUint32(data, pos);
    if (length < MIN_BLOB) {
      throw new KeyringError(`keybox blob at offset ${pos} has an impossible length ${length}`);
    }
    if (length > left) {
      throw new KeyringError(`keybox is truncated: blob at offset ${pos} claims ${length} bytes, ${left} left`);
    }
    const type = data[pos + 4]!;
    if (type === BLOB_HEADER && pos !== 0) {
      throw new KeyringError(`keybox has a second header blob at offset ${pos}`);
    }
    if (type === BLOB_OPENPGP) {
      const block = openpgpKeyblock(data.subarray(pos, pos + length), pos);
      if (block) keyblocks.push(block);
    }
    // Empty (0), X.509 (3) and types newer than this code are skipped on purpose.
    pos += length;
  }
  return keyblocks;
}

/** The keyblock of one OpenPGP blob, or undefined when gpg would not list it. */
function openpgpKeyblock(blob: Uint8Array, at: number): Uint8Array | undefined {
  if (blob.length < OPENPGP_FIXED) {
    throw new KeyringError(`keybox OpenPGP blob at offset ${at} is too short (${blob.length} bytes)`);
  }
  const version = blob[5]!;
  if (version !== 1) {
    throw new KeyringError(`keybox OpenPGP blob at offset ${at} has unknown version ${version}`);
  }
  const flags = (blob[6]! << 8) | blob[7]!;
  if (flags & FLAG_EPHEMERAL) return undefined;
  const offset = readUint32(blob, 8);
  const length = readUint32(blob, 12);
  if (offset < OPENPGP_FIXED || length === 0 || offset > blob.length || length > blob.length - offset) {
    throw new KeyringError(
      `keybox OpenPGP blob at offset ${at} points outside itself (keyblock ${offset}+${length}, blob ${blob.length} bytes)`,
    );
  }
  return blob.subarray(offset, offset + length);
}
