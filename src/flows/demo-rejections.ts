/**
 * What `chartprov demo` shows must fail: a chart altered after it was signed,
 * and a chart signed by a key the user does not trust. Each is put in the
 * demo registry the way it would arrive there in real life, then pulled with
 * `--verify`; the step succeeds only when that pull is refused with the
 * expected code and writes nothing.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readChartArchive } from '../chart/index.js';
import { ChartprovError, DemoFailedError } from '../errors.js';
import { generateKeyPair } from '../keys/generate.js';
import { digestOf } from '../oci/digest.js';
import { helmConfigJson, helmManifestAnnotations, helmManifestJson } from '../oci/helm-artifact.js';
import { HELM_CHART_LAYER, HELM_CONFIG, HELM_PROV_LAYER, OCI_MANIFEST } from '../oci/helm-media.js';
import { tagFromVersion } from '../oci/version.js';
import { writeDemoChart } from './demo-chart.js';
import { DEMO_CHART, DEMO_PROJECT, host, need, paths, registryOpts, single, type StepDefinition } from './demo-context.js';
import { packageChartFlow } from './package-chart.js';
import { pullChart, type PullChartOptions } from './pull-chart.js';
import { pushCharts } from './push-charts.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { createSigner } from './signer.js';

export interface ForeignProvPush extends RegistryOptions {
  /** `host:port` */
  host: string;
  /** Repository, e.g. `helm-charts/tampered/hello-world`. */
  repository: string;
  /** The chart archive that goes up. */
  chartPath: string;
  /** The .prov that goes up beside it, whatever archive it was made for. */
  provText: string;
}

/**
 * Pushes a chart with a provenance layer that was made for other bytes, as
 * `helm push` would (it uploads any .prov it finds). `chartprov push` refuses
 * to, hence the lower-level calls: this is how an altered chart reaches a
 * registry with its original signature.
 */
export async function pushWithForeignProv(opts: ForeignProvPush): Promise<{ ref: string; digest: string }> {
  const archive = await readChartArchive(opts.chartPath);
  return withRegistryClient({ ...opts, registries: [opts.host] }, async (client) => {
    const repo = client.repository(opts.host, opts.repository);
    const configBytes = Buffer.from(helmConfigJson(archive.metadata), 'utf8');
    const provBytes = Buffer.from(opts.provText, 'utf8');
    const chartDigest = `sha256:${archive.sha256}`;
    await Promise.all([
      repo.pushBlob({ bytes: configBytes }),
      repo.pushBlob({ path: opts.chartPath }, { digest: chartDigest }),
      repo.pushBlob({ bytes: provBytes }),
    ]);
    const manifest = helmManifestJson({
      config: { mediaType: HELM_CONFIG, digest: digestOf(configBytes), size: configBytes.length },
      chart: { mediaType: HELM_CHART_LAYER, digest: chartDigest, size: archive.size },
      prov: { mediaType: HELM_PROV_LAYER, digest: digestOf(provBytes), size: provBytes.length },
      annotations: helmManifestAnnotations(archive.metadata),
    });
    const tag = tagFromVersion(archive.metadata.version);
    const { digest } = await repo.pushManifest(tag, Buffer.from(manifest, 'utf8'), OCI_MANIFEST);
    return { ref: `oci://${opts.host}/${opts.repository}:${tag}`, digest };
  });
}

export interface ExpectRejectedPull extends Omit<PullChartOptions, 'verify' | 'destination'> {
  /** Must be empty: checked to stay so. */
  destination: string;
  /** The code verification must fail with. */
  expectedCode: string;
}

/** Runs `pull --verify` and returns the error it was refused with; anything else is a demo failure. */
export async function expectRejectedPull(opts: ExpectRejectedPull): Promise<ChartprovError> {
  const { expectedCode, ...pull } = opts;
  let refusal: ChartprovError;
  try {
    const pulled = await pullChart({ ...pull, verify: true });
    throw new DemoFailedError(
      `${pulled.reference} verified, signed by ${pulled.verified?.signer.userId ?? 'unknown'}; it should have been refused (${expectedCode})`,
      {
        hint: 'this is a bug in chartprov verification: please report it',
      },
    );
  } catch (err) {
    if (err instanceof DemoFailedError) throw err;
    if (!(err instanceof ChartprovError) || err.code !== expectedCode) {
      const got = err instanceof ChartprovError ? `${err.code}: ${err.message}` : String(err);
      throw new DemoFailedError(`pull --verify was refused, but with ${got} instead of ${expectedCode}`, {
        hint: err instanceof ChartprovError ? err.hint : 'run with --debug',
        cause: err,
        ...(err instanceof ChartprovError ? { stepCode: err.code } : {}),
      });
    }
    refusal = err;
  }
  const left = await readdir(opts.destination).catch(() => []);
  if (left.length > 0) {
    throw new DemoFailedError(`pull --verify was refused (${expectedCode}) but left files behind: ${left.join(', ')}`, {
      hint: 'this is a bug in chartprov pull: please report it',
    });
  }
  return refusal;
}

export const REJECTION_STEPS: StepDefinition[] = [
  {
    id: 'reject-tampered',
    name: 'a tampered chart is rejected',
    async run(ctx) {
      const p = paths(ctx.workspace);
      // The same chart and version with one value changed after signing, pushed with the original .prov.
      const src = await writeDemoChart({
        parentDir: join(p.tampered, 'src'),
        name: DEMO_CHART,
        version: '0.1.0',
        image: 'attacker.example/nginx',
      });
      const altered = await packageChartFlow({ chartDir: src, destination: join(p.tampered, 'dist') });
      const provText = await readFile(`${need(ctx.signedChart, 'the signed chart')}.prov`, 'utf8');
      const repository = `${DEMO_PROJECT}/tampered/${DEMO_CHART}`;
      const pushed = await pushWithForeignProv({ ...registryOpts(ctx), host: host(ctx), repository, chartPath: altered.path, provText });
      const destination = join(p.refused, 'tampered');
      await mkdir(destination, { recursive: true });
      const err = await expectRejectedPull({
        ...registryOpts(ctx),
        ref: pushed.ref,
        keyrings: [p.pubring],
        destination,
        expectedCode: 'CHART_TAMPERED',
      });
      return {
        summary: `${repository}:0.1.0 (values changed, original .prov): refused, ${err.code}; nothing written`,
        details: { ref: pushed.ref, code: err.code, message: err.message },
      };
    },
  },
  {
    id: 'reject-unknown-key',
    name: 'a chart signed by an unknown key is rejected',
    async run(ctx) {
      const p = paths(ctx.workspace);
      // Ed25519: made in milliseconds, and only chartprov reads this signature.
      const stranger = await generateKeyPair({ name: 'Somebody Else', email: 'else@example.com', type: 'ed25519' });
      const signer = await createSigner({ armoredKey: stranger.privateKeyArmored, env: ctx.env });
      const pkg = await packageChartFlow({ chartDir: join(p.charts, DEMO_CHART), destination: join(p.stranger, 'dist'), sign: signer });
      const dest = `oci://${host(ctx)}/${DEMO_PROJECT}/unknown-signer`;
      const r = single(
        (await pushCharts({ ...registryOpts(ctx), charts: [pkg.path], destination: dest, requireProvenance: true })).results[0],
      );
      const destination = join(p.refused, 'unknown-signer');
      await mkdir(destination, { recursive: true });
      const err = await expectRejectedPull({
        ...registryOpts(ctx),
        ref: r.ref,
        keyrings: [p.pubring],
        destination,
        expectedCode: 'SIGNER_UNKNOWN',
      });
      return {
        summary: `${r.repository}:0.1.0 signed by ${stranger.fingerprint.slice(-16)}: refused, ${err.code}; nothing written`,
        details: { ref: r.ref, signer: stranger.fingerprint, code: err.code, message: err.message },
      };
    },
  },
];
