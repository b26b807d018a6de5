// A classic Helm chart repository of 30 chart versions for mirror (and
// audit) tests: four chart names, signed by two keys (John and Jane, the
// fixture keys), some unsigned, one .prov tampered with (a byte of its signed
// text changed) and one .prov made for another chart (chart B's prov renamed
// beside chart A). index.yaml is written in the layout Helm writes; the folder
// is served over HTTP on 127.0.0.1, optionally behind Basic auth. What was
// built is described in `FarmVersion`s and `expected` counts.
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createSigner, packageAndSignChart } from '../../src/index.js';
import { helloWorldSource } from './charts.js';
import { serveFolder } from './folder-server.js';
import { keyFile } from './paths.js';
import { tempDir } from './tmp.js';

/** What the .prov beside a version is. */
export type FarmProv =
  /** Signed by `signer` for this very archive. */
  | 'good'
  /** Signed for this archive, then one byte of the signed text changed: the signature no longer holds (pairing does). */
  | 'tampered'
  /** Another chart's .prov under this archive's name: PROV_MISMATCH whatever the keys. */
  | 'foreign'
  /** No .prov at all. */
  | 'none';

export interface FarmVersion {
  name: string;
  version: string;
  /** `<name>-<version>.tgz`, in the farm folder. */
  file: string;
  /** Hex sha256 of the archive. */
  sha256: string;
  /** Who signed it (for 'tampered', who signed it before the change; for 'foreign', nobody for this chart). */
  signer?: 'john' | 'jane';
  prov: FarmProv;
}

export interface FarmExpectation {
  total: number;
  /** With both public keys (`pubrings`) or a policy trusting them: copied / unsigned / invalid. */
  checked: { copied: number; unsigned: number; invalid: number };
  /** Without keys: only the pairing is checked, so the tampered prov passes (signer unchecked). */
  unchecked: { copied: number; unsigned: number; invalid: number };
  /** Error codes of the invalid ones when checked: `name version` → code. */
  invalidCodes: Record<string, string>;
}

export interface ChartFarm {
  /** The repository folder: archives, .prov files, index.yaml. */
  dir: string;
  versions: FarmVersion[];
  expected: FarmExpectation;
  /** Public keyrings of both signers (john, jane): pass each as --keyring. */
  pubrings: string[];
  /** http://127.0.0.1:PORT serving `dir` (when served). */
  url: string;
  /** Every request the server answered: method, path, whether it carried the right credentials, its Authorization header. */
  requests: Array<{ method: string; path: string; authorized: boolean; authorization?: string }>;
  /** A copy of the folder without index.yaml (the mirror reads the archives themselves). */
  copyWithoutIndex(dest: string): Promise<string>;
  close(): Promise<void>;
}

export interface ChartFarmOptions {
  /** Basic credentials the server requires for everything. */
  auth?: { username: string; password: string };
  /** Serve over HTTP (default true). */
  serve?: boolean;
}

/** name → versions; 30 in all. */
const LAYOUT: Record<string, string[]> = {
  alpha: ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '2.0.0', '2.1.0', '2.2.0', '3.0.0-rc.1'],
  beta: ['0.1.0', '0.2.0', '0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '1.0.0'],
  gamma: ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.1.0', '1.2.0', '2.0.0'],
  delta: ['0.0.1', '0.0.2', '0.0.3', '0.1.0', '0.2.0', '0.3.0', '1.0.0'],
};
const UNSIGNED = new Set(['alpha 1.1.0', 'beta 0.4.0', 'gamma 1.0.2', 'delta 0.2.0']);
const TAMPERED = 'gamma 1.1.0';
/** beta 0.6.0 carries the .prov of delta 0.3.0. */
const FOREIGN = { at: 'beta 0.6.0', from: 'delta 0.3.0' };

export async function buildChartFarm(opts: ChartFarmOptions = {}): Promise<ChartFarm> {
  const { dir: work, cleanup } = await tempDir('chartprov-farm-');
  const dir = join(work, 'repo');
  await mkdir(dir, { recursive: true });
  const source = await helloWorldSource(work);
  const chartYaml = await readFile(join(source, 'Chart.yaml'), 'utf8');
  const signers = {
    john: await createSigner({ keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] }),
    jane: await createSigner({ keyName: 'jane@example.com', keyrings: [keyFile('jane-secring.gpg')] }),
  };
  const versions: FarmVersion[] = [];
  const mtime = new Date('2026-01-02T03:04:05Z');
  let n = 0;
  for (const [name, list] of Object.entries(LAYOUT)) {
    const chartDir = join(work, 'src', name);
    await cp(source, chartDir, { recursive: true });
    await writeFile(join(chartDir, 'Chart.yaml'), chartYaml.replace(/^name: .*$/m, `name: ${name}`));
    for (const version of list) {
      const key = `${name} ${version}`;
      const unsigned = UNSIGNED.has(key);
      const signer = unsigned ? undefined : n++ % 2 === 0 ? ('john' as const) : ('jane' as const);
      const made = await packageAndSignChart({ chartDir, destination: dir, version, mtime, ...(signer ? { sign: signers[signer] } : {}) });
      versions.push({
        name,
        version,
        file: made.fileName,
        sha256: made.sha256,
        prov: unsigned ? 'none' : 'good',
        ...(signer ? { signer } : {}),
      });
    }
  }
  const find = (key: string) => versions.find((v) => `${v.name} ${v.version}` === key)!;
  // A byte of the signed text changed: still about this archive, no longer what was signed.
  const tampered = find(TAMPERED);
  const provPath = join(dir, `${tampered.file}.prov`);
  const text = await readFile(provPath, 'utf8');
  if (!text.includes('for Kubernetes')) throw new Error('chart farm: the fixture chart description changed');
  await writeFile(provPath, text.replace('for Kubernetes', 'for Kubernetez'));
  tampered.prov = 'tampered';
  const foreign = find(FOREIGN.at);
  await copyFile(join(dir, `${find(FOREIGN.from).file}.prov`), join(dir, `${foreign.file}.prov`));
  foreign.prov = 'foreign';
  delete foreign.signer;
  await writeFile(join(dir, 'index.yaml'), helmIndexYaml(versions));

  const server = opts.serve === false ? undefined : await serveFolder(dir, opts.auth);
  const requests: ChartFarm['requests'] = server?.requests ?? [];
  const count = (p: FarmProv) => versions.filter((v) => v.prov === p).length;
  const unsignedCount = count('none');
  return {
    dir,
    versions,
    expected: {
      total: versions.length,
      checked: { copied: count('good'), unsigned: unsignedCount, invalid: count('tampered') + count('foreign') },
      unchecked: { copied: count('good') + count('tampered'), unsigned: unsignedCount, invalid: count('foreign') },
      invalidCodes: { [TAMPERED]: 'SIGNATURE_INVALID', [FOREIGN.at]: 'PROV_MISMATCH' },
    },
    pubrings: [keyFile('john-pubring.gpg'), keyFile('jane-pubring.gpg')],
    url: server ? server.url : '',
    requests,
    async copyWithoutIndex(dest) {
      await cp(dir, dest, { recursive: true });
      await rm(join(dest, 'index.yaml'));
      return dest;
    },
    async close() {
      await server?.close();
      await cleanup();
    },
  };
}

/**
 * index.yaml as `helm repo index` writes it: apiVersion, entries by name
 * (highest version first), each with its digest and a URL relative to the
 * repository, then `generated`. Sequences are not indented under their key.
 */
export function helmIndexYaml(versions: FarmVersion[]): string {
  const created = '2026-01-02T03:04:05.000000000Z';
  const entries: Record<string, object[]> = {};
  for (const v of [...versions].reverse()) {
    (entries[v.name] ??= []).push({
      apiVersion: 'v2',
      appVersion: '1.16.0',
      created,
      description: 'A Helm chart for Kubernetes',
      digest: v.sha256,
      name: v.name,
      type: 'application',
      urls: [v.file],
      version: v.version,
    });
  }
  return stringify({ apiVersion: 'v1', entries, generated: created }, { indentSeq: false, lineWidth: 0 });
}

/** sha256 of a file, hex (what a pushed chart layer's digest must be). */
export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}
