// gpg-agent stores each secret key as private-keys-v1.d/<KEYGRIP>.key, where
// the keygrip is libgcrypt's SHA-1 over the public key parameters (not the
// OpenPGP fingerprint). Computing it from the public key tells us which keys
// of a gpg home have their secret in the agent, without opening any secret
// file. Supported: RSA, DSA, ElGamal, EdDSA Ed25519, ECDH Curve25519 and the
// NIST curves; checked against the keygrips real gpg prints
// (`gpg --with-keygrip`). Other curves return null and the caller falls back
// to a coarser rule.
import { createHash } from 'node:crypto';
import type { Key } from 'openpgp';

interface CurveParams {
  p: string;
  a: string;
  b: string;
  /** Base point, uncompressed: 04 || x || y. */
  g: string;
  n: string;
}

const P25519 = '7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed';
const N25519 = '1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed';

// libgcrypt's own curve table (cipher/ecc-curves.c) is what gets hashed;
// Ed25519's negative a and b enter as their magnitudes.
const CURVES: Record<string, CurveParams> = {
  ed25519Legacy: {
    p: P25519,
    a: '01',
    b: '2dfc9311d490018c7338bf8688861767ff8ff5b2bebe27548a14b235eca6874a',
    g: '04216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51a6666666666666666666666666666666666666666666666666666666666666658',
    n: N25519,
  },
  curve25519Legacy: {
    p: P25519,
    a: '01db41',
    b: '01',
    g: '04000000000000000000000000000000000000000000000000000000000000000920ae19a1b8a086b4e01edd2c7748d14c923d4d7e6d7c61b229e9c5a27eced3d9',
    n: N25519,
  },
  nistP256: {
    p: 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
    a: 'ffffffff00000001000000000000000000000000fffffffffffffffffffffffc',
    b: '5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b',
    g: '046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
    n: 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
  },
  nistP384: {
    p: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff',
    a: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc',
    b: 'b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef',
    g: '04aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f',
    n: 'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
  },
  nistP521: {
    p: '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    a: '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc',
    b: '51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00',
    g: '0400c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650',
    n: '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  },
};

type Params = Record<string, unknown>;

/** gpg hands MPIs to libgcrypt as signed big-endian: a leading zero when the top bit is set. */
function signedMpi(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  if (trimmed[0]! & 0x80) {
    const out = new Uint8Array(trimmed.length + 1);
    out.set(trimmed, 1);
    return out;
  }
  return trimmed;
}

/** One S-expression element as libgcrypt hashes it: `(1:<name><len>:<bytes>)`. */
function element(name: string, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`(1:${name}${bytes.length}:`, 'latin1'), bytes, Buffer.from(')', 'latin1')]);
}

function sha1Hex(parts: Uint8Array[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex').toUpperCase();
}

function bytesOf(params: Params, name: string): Uint8Array | undefined {
  const v = params[name];
  return v instanceof Uint8Array ? v : undefined;
}

function eccKeygrip(curveName: string, q: Uint8Array): string | null {
  const curve = CURVES[curveName];
  if (!curve) return null;
  let point = q;
  // OpenPGP prefixes native (x-only / EdDSA) points with 0x40; libgcrypt hashes them without it.
  if ((curveName === 'ed25519Legacy' || curveName === 'curve25519Legacy') && q.length === 33 && q[0] === 0x40) {
    point = q.subarray(1);
  }
  const hex = (s: string): Buffer => Buffer.from(s, 'hex');
  // The cofactor (h) is deliberately not part of the keygrip.
  return sha1Hex([
    element('p', hex(curve.p)),
    element('a', hex(curve.a)),
    element('b', hex(curve.b)),
    element('g', hex(curve.g)),
    element('n', hex(curve.n)),
    element('q', point),
  ]);
}

/** The keygrip of one (sub)key packet, uppercase hex, or null when we cannot compute it. */
export function keygripOf(packet: { algorithm: number; publicParams: object }): string | null {
  const params = packet.publicParams as Params;
  switch (packet.algorithm) {
    case 1: // RSA encrypt+sign
    case 2: // RSA encrypt-only
    case 3: {
      // RSA sign-only: libgcrypt hashes the bare modulus.
      const n = bytesOf(params, 'n');
      return n ? sha1Hex([signedMpi(n)]) : null;
    }
    case 16: // ElGamal
    case 17: {
      // DSA
      const names = packet.algorithm === 17 ? ['p', 'q', 'g', 'y'] : ['p', 'g', 'y'];
      const values = names.map((name) => bytesOf(params, name));
      if (values.some((v) => v === undefined)) return null;
      return sha1Hex(names.map((name, i) => element(name, signedMpi(values[i]!))));
    }
    case 18: // ECDH
    case 19: // ECDSA
    case 22: {
      // EdDSA (legacy, v4 keys as gpg 2.2 makes them)
      const q = bytesOf(params, 'Q');
      const oid = params.oid as { getName?: () => string } | undefined;
      if (!q || !oid?.getName) return null;
      try {
        return eccKeygrip(oid.getName(), q);
      } catch {
        return null;
      }
    }
    default:
      return null;
  }
}

/** Keygrips of a key's primary key and subkeys, in that order (null where unknown). */
export function keygripsOf(key: Key): Array<string | null> {
  return [key.keyPacket, ...key.subkeys.map((s) => s.keyPacket)].map(keygripOf);
}
