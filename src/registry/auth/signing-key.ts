/**
 * The key that signs registry tokens, kept in the data folder with a
 * self-signed certificate. The certificate is what distribution's
 * `auth.token.rootcertbundle` (and Harbor's registry) expects, so another
 * registry can be pointed at our token service.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import { ServeConfigError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic-write.js';

export interface TokenSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PEM certificate of the public key. */
  certificatePem: string;
  certificateFile: string;
  /** libtrust key id: what distribution matches a token's `kid` against. */
  keyId: string;
}

const KEY_FILE = 'token.key';
const CERT_FILE = 'token.crt';

/** Loads the token key of `authDir`, creating key and certificate on first use. */
export async function loadOrCreateSigningKey(authDir: string, commonName = 'chartprov-token-signer'): Promise<TokenSigningKey> {
  const keyFile = join(authDir, KEY_FILE);
  const certificateFile = join(authDir, CERT_FILE);
  let keyPem = await readIfPresent(keyFile);
  let certificatePem = await readIfPresent(certificateFile);
  // Only a registry that never had a key gets a new one: replacing it would
  // silently break every registry that trusts its certificate.
  if (keyPem === undefined && certificatePem === undefined) {
    await mkdir(authDir, { recursive: true, mode: 0o700 });
    keyPem = generateKeyPem();
    await writeFileAtomic(keyFile, keyPem, 0o600);
  }
  if (keyPem === undefined)
    throw new ServeConfigError(`the token signing key ${keyFile} is missing but its certificate is there`, {
      hint: 'restore token.key from a backup; or remove token.crt too to make a new pair (registries trusting the old certificate must get the new one)',
    });
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (cause) {
    throw new ServeConfigError(`cannot read the token signing key ${keyFile}`, {
      hint: 'restore token.key from a backup, or remove token.key and token.crt to make a new pair (issued tokens stop working)',
      cause,
    });
  }
  const publicKey = createPublicKey(privateKey);
  if (certificatePem === undefined) {
    // A lost certificate is rebuilt from the key: same key, same kid, tokens keep working.
    certificatePem = certificateFor(keyPem, commonName);
    await writeFileAtomic(certificateFile, certificatePem, 0o600);
  } else if (!sameKey(certificatePem, publicKey)) {
    throw new ServeConfigError(`the certificate ${certificateFile} is not the one of the token signing key ${keyFile}`, {
      hint: 'remove token.crt: it is rebuilt from token.key at the next start',
    });
  }
  return { privateKey, publicKey, certificatePem, certificateFile, keyId: libtrustKeyId(publicKey) };
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ServeConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      hint: 'run as the user that owns the registry data folder',
      cause: err,
    });
  }
}

function sameKey(certificatePem: string, publicKey: KeyObject): boolean {
  try {
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
    return spki(new X509Certificate(certificatePem).publicKey).equals(spki(publicKey));
  } catch {
    return false;
  }
}

// RSA because node-forge (the certificate builder) signs certificates with
// RSA only; 2048 bits is what distribution's own test token servers use.
function generateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function certificateFor(keyPem: string, commonName: string): string {
  const publicKey = createPublicKey(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // A positive serial: the top bit clear.
  cert.serialNumber = `0${randomBytes(16).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

// RFC 4648 base32 without padding.
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * libtrust's key id (docker/libtrust util.go keyIDEncode): the first 240
 * bits of sha256(DER SubjectPublicKeyInfo), base32, in twelve groups of four
 * joined by ':'.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const hash = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join(':');
}
