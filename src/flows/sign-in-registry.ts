/**
 * `chartprov sign oci://…:version`: signs a chart where it already is — for
 * charts pushed unsigned, by another pipeline, or before a key rotation. The
 * chart layer is fetched (digest-checked) into a private temp folder, signed
 * as `helm package --sign` would have signed that archive, and the .prov is
 * attached as a referrer. The chart itself is not touched.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readChartArchive } from '../chart/index.js';
import { withStagingDir } from '../fs/staging.js';
import { buildProvenanceMessage } from '../provenance/index.js';
import type { SignerInfo } from '../provenance/index.js';
import { attachProvenance, type AttachProvenanceResult } from './attach-provenance.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { resolveChart } from './resolve-chart.js';
import { createSigner, signAndCheck, type Signer, type SignerOptions } from './signer.js';

export interface SignInRegistryOptions extends RegistryOptions, SignerOptions {
  /** `oci://host/path/name:tag`, `…@sha256:…`, or `oci://…/name` with `version`. */
  reference: string;
  version?: string;
  /** A signer made earlier with createSigner (the key is unlocked once for many charts). */
  signer?: Signer;
}

export interface SignInRegistryResult extends AttachProvenanceResult {
  /** The signer, as `verify` reports it. */
  signedBy: SignerInfo;
  /** The .prov text that was attached. */
  provenance: string;
}

export async function signChartInRegistry(opts: SignInRegistryOptions): Promise<SignInRegistryResult> {
  const signer = opts.signer ?? (await createSigner(opts));
  const registry = opts.reference.replace(/^oci:\/\//, '').split('/')[0] ?? '';
  return withRegistryClient({ ...opts, registries: [registry] }, async (client) => {
    const chart = await resolveChart(client, opts.reference, opts.version);
    const signed = await withStagingDir(tmpdir(), async (staging) => {
      const file = join(staging, 'chart.tgz');
      await chart.repo.fetchBlobToFile(chart.chart, file, { mode: 0o600 });
      const { metadata, sha256 } = await readChartArchive(file);
      // The name a pulled archive has, which is the name `helm verify` checks against.
      const fileName = `${metadata.name}-${metadata.version}.tgz`;
      return signAndCheck(signer, buildProvenanceMessage(metadata, fileName, sha256), fileName, sha256);
    });
    // By digest: the tag may move meanwhile, the signature is about these bytes.
    const pinned = `oci://${chart.ref.registry}/${chart.ref.repository}@${chart.digest}`;
    const attached = await attachProvenance({
      ...opts,
      client,
      reference: pinned,
      provenance: signed.prov,
      version: undefined,
      keyrings: undefined,
      checkedSigner: signed.signer,
    });
    return {
      ...attached,
      reference: chart.reference,
      signedBy: signed.signer,
      provenance: signed.prov,
      warnings: [...signer.warnings, ...attached.warnings],
    };
  });
}
