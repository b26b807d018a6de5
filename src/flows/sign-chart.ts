import { basename } from 'node:path';
import { readChartArchive } from '../chart/index.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { buildProvenanceMessage } from '../provenance/index.js';
import type { SignerInfo } from '../provenance/index.js';
import { createSigner, signAndCheck } from './signer.js';
import type { Signer, SignerOptions } from './signer.js';

export interface SignChartOptions extends SignerOptions {
  /** The chart archive (.tgz) to sign. */
  chartPath: string;
  /** Where to write the .prov; default `<chartPath>.prov`. */
  provPath?: string;
  /** A signer made earlier with createSigner (skips key resolution). */
  signer?: Signer;
}

export interface SignChartResult {
  chartPath: string;
  provPath: string;
  name: string;
  version: string;
  sha256: string;
  /** The signer, as `verify` reports it. */
  signer: SignerInfo;
  warnings: string[];
}

/** Signs an existing chart archive into `<chart>.prov`, as `helm package --sign` would. */
export async function signChart(opts: SignChartOptions): Promise<SignChartResult> {
  const signer = opts.signer ?? (await createSigner(opts));
  // One read: the metadata signed and the digest are of the same bytes.
  const { metadata, sha256 } = await readChartArchive(opts.chartPath);
  const provPath = opts.provPath ?? `${opts.chartPath}.prov`;
  const fileName = basename(opts.chartPath);
  const signed = await signAndCheck(signer, buildProvenanceMessage(metadata, fileName, sha256), fileName, sha256);
  await writeFileAtomic(provPath, signed.prov);
  return {
    chartPath: opts.chartPath,
    provPath,
    name: metadata.name,
    version: metadata.version,
    sha256,
    signer: signed.signer,
    warnings: signer.warnings,
  };
}
