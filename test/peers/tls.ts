// Test certificates made by the real `openssl` CLI, so the TLS peers see
// certificates like the ones users bring, not something only Node produced.
// P-256 keys: generating them takes milliseconds, RSA-2048 up to a second.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface TestCa {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The CA certificate as PEM, for `ca:` options. */
  certPem: string;
}

export interface IssuedCert {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  /** Base name of the `.crt`/`.key` files and the certificate's CN. */
  name?: string;
  /** Folder for the files; the CA's folder by default. */
  dir?: string;
}

/** Every address a test may use to reach a loopback server. */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileP('openssl', args, { maxBuffer: 1 << 20 });
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? String(err)}`, { cause: err });
  }
}

/**
 * Runs `openssl req -x509` with a config written for the call: the system's
 * openssl.cnf would add its own default extensions (and duplicates of ours).
 */
async function newCert(opts: { dir: string; name: string; extensions: string[]; ca?: TestCa }): Promise<IssuedCert> {
  await mkdir(opts.dir, { recursive: true });
  const certFile = join(opts.dir, `${opts.name}.crt`);
  const keyFile = join(opts.dir, `${opts.name}.key`);
  const configFile = join(opts.dir, `${opts.name}.${randomBytes(4).toString('hex')}.cnf`);
  const config = [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    'x509_extensions = ext',
    '[dn]',
    `CN = ${opts.name}`,
    '[ext]',
    ...opts.extensions,
    '',
  ].join('\n');
  await writeFile(configFile, config);
  try {
    await openssl([
      'req',
      '-x509',
      '-config',
      configFile,
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-sha256',
      '-days',
      '2',
      // Random serials: clients may cache by issuer+serial across test runs.
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
      // OpenSSL ≥ 3.0 signs `req -x509` output with a CA directly, no CSR round trip.
      ...(opts.ca ? ['-CA', opts.ca.certFile, '-CAkey', opts.ca.keyFile] : []),
    ]);
  } finally {
    await rm(configFile, { force: true });
  }
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
}

/** A throw-away certificate authority in `dir` (made if missing), valid for two days. */
export async function makeTestCa(dir: string, opts: { name?: string } = {}): Promise<TestCa> {
  const cert = await newCert({
    dir,
    name: opts.name ?? 'chartprov-test-ca',
    extensions: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash'],
  });
  return { dir, certFile: cert.certFile, keyFile: cert.keyFile, certPem: cert.certPem };
}

function subjectAltName(hosts: string[]): string {
  return hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

const leafExtensions = [
  'basicConstraints = critical,CA:FALSE',
  'keyUsage = critical,digitalSignature',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
];

/** A server certificate signed by `ca`; `hosts` (SANs) default to 127.0.0.1, localhost and ::1. */
export function issueServerCert(ca: TestCa, opts: IssueOptions & { hosts?: string[] } = {}): Promise<IssuedCert> {
  const hosts = opts.hosts ?? LOOPBACK_HOSTS;
  return newCert({
    dir: opts.dir ?? ca.dir,
    name: opts.name ?? 'server',
    ca,
    extensions: [...leafExtensions, 'extendedKeyUsage = serverAuth', `subjectAltName = ${subjectAltName(hosts)}`],
  });
}

/** A client certificate signed by `ca`, for registries that require mutual TLS. */
export function issueClientCert(ca: TestCa, opts: IssueOptions = {}): Promise<IssuedCert> {
  return newCert({
    dir: opts.dir ?? ca.dir,
    name: opts.name ?? 'client',
    ca,
    extensions: [...leafExtensions, 'extendedKeyUsage = clientAuth'],
  });
}

/**
 * A self-signed certificate with its key, not a CA: what a token server signs
 * JWTs with and what the registry lists as `rootcertbundle`.
 */
export function makeSelfSignedCert(dir: string, opts: { name?: string } = {}): Promise<IssuedCert> {
  return newCert({
    dir,
    name: opts.name ?? 'self-signed',
    extensions: ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'subjectKeyIdentifier = hash'],
  });
}
