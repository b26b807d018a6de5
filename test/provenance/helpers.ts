// Shared by the provenance tests: fixture keys read straight with openpgp (the
// keys module is not used here on purpose), golden charts, and a way to make
// charts signed by the real Helm binaries.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readKeys, readPrivateKeys, type PrivateKey, type PublicKey } from 'openpgp';
import { runHelm, type HelmMajor } from '../peers/helm.js';
import { keyFile, sharedFixtures } from '../peers/paths.js';

export const GOLDEN_TGZ = 'hello-world-0.1.0.tgz';

export function goldenPath(major: HelmMajor, file = GOLDEN_TGZ): string {
  return join(sharedFixtures, `helm${major}`, file);
}

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

const publicCache = new Map<string, Promise<PublicKey[]>>();
const privateCache = new Map<string, Promise<PrivateKey>>();

/** Public keys of `<who>-pubring.gpg` (john, jane, eddie, sam, expired, pat, all). */
export function publicKeys(who: string): Promise<PublicKey[]> {
  let p = publicCache.get(who);
  if (!p) {
    p = readFile(keyFile(`${who}-pubring.gpg`)).then((b) => readKeys({ binaryKeys: b }));
    publicCache.set(who, p);
  }
  return p;
}

/** The (unprotected) secret key of `<who>-secring.gpg`. */
export function privateKey(who: string): Promise<PrivateKey> {
  let p = privateCache.get(who);
  if (!p) {
    p = readFile(keyFile(`${who}-secring.gpg`)).then(async (b) => (await readPrivateKeys({ binaryKeys: b }))[0]!);
    privateCache.set(who, p);
  }
  return p;
}

export interface Golden {
  prov: string;
  tgz: Buffer;
  sha256: string;
}

export async function golden(major: HelmMajor): Promise<Golden> {
  const [prov, tgz] = await Promise.all([readFile(goldenPath(major, `${GOLDEN_TGZ}.prov`), 'utf8'), readFile(goldenPath(major))]);
  return { prov, tgz, sha256: sha256Hex(tgz) };
}

/**
 * Writes a chart folder whose Chart.yaml is `chartYaml` verbatim, with an
 * empty subchart under charts/ for each dependency name (helm package wants
 * them there).
 */
export async function writeChart(dir: string, chartYaml: string, dependencyNames: string[] = []): Promise<void> {
  await mkdir(join(dir, 'templates'), { recursive: true });
  await writeFile(join(dir, 'Chart.yaml'), chartYaml);
  for (const dep of dependencyNames) {
    await mkdir(join(dir, 'charts', dep), { recursive: true });
    await writeFile(join(dir, 'charts', dep, 'Chart.yaml'), `apiVersion: v2\nname: ${dep}\nversion: 1.0.0\n`);
  }
}

/** `helm package --sign` with the fixture key of `who`; returns the tgz path. */
export async function helmPackageSigned(
  major: HelmMajor,
  chartDir: string,
  outDir: string,
  opts: { key?: string; keyring?: string } = {},
): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const r = await runHelm(major, [
    'package',
    '--sign',
    '--key',
    opts.key ?? 'John The Signer',
    '--keyring',
    opts.keyring ?? keyFile('john-secring.gpg'),
    chartDir,
    '-d',
    outDir,
  ]);
  const m = /saved it to: (.+\.tgz)\s*$/m.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`helm ${major} package failed (${r.code}): ${r.stderr}${r.stdout}`);
  return m[1]!.trim();
}

/**
 * The signed text of a clearsigned file, read with a naive independent parser
 * (not ours): dash-escapes undone, text between the armor lines.
 */
export function naiveSignedText(prov: string): string {
  const lines = prov.split('\n');
  const start = lines.indexOf('') + 1;
  const end = lines.indexOf('-----BEGIN PGP SIGNATURE-----');
  return lines
    .slice(start, end)
    .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
    .join('\n');
}

/** The golden hello-world chart's metadata, as Helm has it. */
export const HELLO = {
  apiVersion: 'v2',
  name: 'hello-world',
  version: '0.1.0',
  appVersion: '1.16.0',
  description: 'A Helm chart for Kubernetes',
  type: 'application',
} as const;
