// Registry content for the audit tests, built with the library: one chart
// version for every case the audit tells apart (signed in the layer, by a
// referrer, by both, unsigned, a tampered prov, an unknown signer, an image,
// a version whose prov blob the registry lost).
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSigner } from '../../src/flows/signer.js';
import { packageChartFlow } from '../../src/flows/package-chart.js';
import { pushCharts } from '../../src/flows/push-charts.js';
import { signChartInRegistry } from '../../src/flows/sign-in-registry.js';
import type { RegistryOptions } from '../../src/flows/registry-client.js';
import { generateKeyPair } from '../../src/keys/generate.js';
import { RegistryClient } from '../../src/oci/client.js';
import { digestOf } from '../../src/oci/digest.js';
import { OCI_IMAGE_CONFIG, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { helloWorldSource } from '../peers/charts.js';
import { keyFile } from '../peers/paths.js';

/** A user id that is markup: the HTML report must show it as text. */
export const HOSTILE_NAME = `Eve <script>globalThis.pwned = 1</script><img src=x onerror="globalThis.pwned = 2">`;

export interface AuditCharts {
  /** Archives to push; each signed one has its .prov beside it. */
  archives: string[];
  /** The .prov of delta 1.0.0, whose blob the error case deletes from the registry's storage. */
  deltaProv: string;
  eve: { secring: string; pubring: string; userId: string; fingerprint: string };
}

/** What the audit must find, by `repository@version` (repositories under `charts/`). */
export const EXPECTED: Record<string, { status: string; sources: string[] }> = {
  'charts/alpha@1.2.0': { status: 'valid', sources: ['layer', 'REF'] },
  'charts/alpha@1.1.0': { status: 'valid', sources: ['REF'] },
  'charts/alpha@1.0.0': { status: 'valid', sources: ['layer'] },
  'charts/beta@0.2.0': { status: 'invalid', sources: ['layer'] },
  'charts/beta@0.1.0': { status: 'unsigned', sources: [] },
  'charts/delta@1.0.0': { status: 'error', sources: [] },
  'charts/gamma@1.0.0': { status: 'unknown-key', sources: ['layer'] },
  'charts/webapp@1.0.0': { status: 'not-a-chart', sources: [] },
};

export async function makeAuditCharts(work: string): Promise<AuditCharts> {
  const eveKey = await generateKeyPair({ name: HOSTILE_NAME, email: 'eve@example.com', type: 'rsa2048' });
  const eve = {
    secring: join(work, 'eve-secring.gpg'),
    pubring: join(work, 'eve-pubring.gpg'),
    userId: eveKey.userId,
    fingerprint: eveKey.fingerprint,
  };
  await writeFile(eve.secring, eveKey.privateKeyBinary);
  await writeFile(eve.pubring, eveKey.publicKeyBinary);
  const john = await createSigner({ keyName: 'John', keyrings: [keyFile('john-secring.gpg')] });
  const eveSigner = await createSigner({ keyName: 'eve@example.com', keyrings: [eve.secring] });

  const source = async (name: string) => {
    const dir = join(work, 'src', name);
    await mkdir(dir, { recursive: true });
    const chart = await helloWorldSource(dir);
    const yaml = (await readFile(join(chart, 'Chart.yaml'), 'utf8')).replace(/^name: .*$/m, `name: ${name}`);
    await writeFile(join(chart, 'Chart.yaml'), yaml);
    const renamed = join(dir, name);
    await rename(chart, renamed);
    return renamed;
  };
  const dirs = { alpha: await source('alpha'), beta: await source('beta'), gamma: await source('gamma'), delta: await source('delta') };
  const pack = async (name: keyof typeof dirs, version: string, signer?: Awaited<ReturnType<typeof createSigner>>) =>
    packageChartFlow({
      chartDir: dirs[name],
      destination: join(work, 'out', `${name}-${version}`),
      version,
      ...(signer ? { sign: signer } : {}),
    });

  const made = await Promise.all([
    pack('alpha', '1.0.0', john),
    pack('alpha', '1.1.0'),
    pack('alpha', '1.2.0', john),
    pack('beta', '0.1.0'),
    pack('beta', '0.2.0', john),
    pack('gamma', '1.0.0', eveSigner),
    pack('delta', '1.0.0', john),
  ]);
  // beta 0.2.0: one line of the signed text changed after signing; still about the same archive, so push takes it.
  const tampered = made[4]!.provenance!.provPath;
  await writeFile(tampered, (await readFile(tampered, 'utf8')).replace(/^description: .*$/m, 'description: not what was signed'));
  return { archives: made.map((m) => m.path), deltaProv: made[6]!.provenance!.provPath, eve };
}

/**
 * Pushes the charts to `oci://host/charts`, has Jane sign alpha 1.1.0 and
 * 1.2.0 in the registry (referrers), and pushes an image as charts/webapp:1.0.0.
 */
export async function populate(host: string, charts: AuditCharts, connection: RegistryOptions): Promise<void> {
  const pushed = await pushCharts({ charts: charts.archives, destination: `oci://${host}/charts`, jobs: 8, ...connection });
  assert.equal(pushed.failed, 0, JSON.stringify(pushed.results));
  const jane = await createSigner({ keyName: 'Jane', keyrings: [keyFile('jane-secring.gpg')] });
  for (const v of ['1.1.0', '1.2.0'])
    await signChartInRegistry({ reference: `oci://${host}/charts/alpha:${v}`, signer: jane, ...connection });
  await pushImage(host, connection);
}

async function pushImage(host: string, connection: RegistryOptions): Promise<void> {
  const client = await RegistryClient.create({
    plainHttp: true,
    ...(connection.clientOptions?.credential ? { credential: connection.clientOptions.credential } : {}),
  });
  try {
    const repo = client.repository(host, 'charts/webapp');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = Buffer.from('not really a layer');
    await repo.pushBlob({ bytes: config });
    await repo.pushBlob({ bytes: layer });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_IMAGE_CONFIG, digest: digestOf(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(layer), size: layer.length }],
      }),
    );
    await repo.pushManifest('1.0.0', manifest, OCI_MANIFEST);
  } finally {
    await client.close();
  }
}

/** Deletes a blob's content from a registry's storage folder (distribution's and ours share the layout below `blobs/`). */
export async function loseBlob(storageRoot: string, content: string): Promise<void> {
  const hex = digestOf(Buffer.from(content, 'utf8')).slice('sha256:'.length);
  const entries = await readdir(storageRoot, { recursive: true });
  const hit = entries.find((e) => e.endsWith(join(hex.slice(0, 2), hex, 'data')));
  assert.ok(hit, `blob ${hex} not found under ${storageRoot}`);
  await rm(join(storageRoot, hit));
}
