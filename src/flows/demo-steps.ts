/**
 * The steps of `chartprov demo`, in order. Each is one library call (or a
 * few) of what a user does, run against the demo workspace and registry;
 * each checks that the call did what it should and says what it saw.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DemoFailedError, ServeConfigError } from '../errors.js';
import { generateSecret } from '../registry/auth/passwords.js';
import { startRegistry } from '../registry/server.js';
import { writeDemoChart } from './demo-chart.js';
import {
  checkValid,
  DEMO_CHART,
  DEMO_KEY,
  DEMO_PROJECT,
  DEMO_USER,
  host,
  need,
  paths,
  registryOpts,
  repoRef,
  single,
  type DemoContext,
  type StepDefinition,
  type StepOutcome,
} from './demo-context.js';
import { findHelmOnPath, helmPullVerify } from './demo-helm.js';
import { REJECTION_STEPS } from './demo-rejections.js';
import { discover } from './discover.js';
import { generateKeysToDir } from './keys.js';
import { packageChartFlow } from './package-chart.js';
import { pullChart } from './pull-chart.js';
import { pushCharts } from './push-charts.js';
import { registryLogin } from './registry-login.js';
import { signChartInRegistry } from './sign-in-registry.js';
import { createSigner } from './signer.js';
import { verifyRemoteChart } from './verify-remote.js';

export const DEMO_STEPS: StepDefinition[] = [
  {
    id: 'generate-key',
    name: 'generate a signing key (RSA 2048)',
    async run(ctx) {
      const p = paths(ctx.workspace);
      // RSA 2048: Helm 3 and 4 both verify it (Ed25519 only Helm 4), and openpgp.js makes one in well under a second.
      const keys = await generateKeysToDir({ ...DEMO_KEY, type: 'rsa2048', dir: p.keys });
      ctx.fingerprint = keys.fingerprint;
      ctx.signer = await createSigner({ keyName: keys.fingerprint, keyrings: [p.secring], env: ctx.env });
      return {
        summary: `${keys.userId}, ${keys.fingerprint}; keys/secring.gpg and keys/pubring.gpg (Helm's format)`,
        details: { userId: keys.userId, fingerprint: keys.fingerprint, type: keys.type, pubring: p.pubring },
      };
    },
  },
  {
    id: 'create-chart',
    name: `create the ${DEMO_CHART} chart`,
    async run(ctx) {
      const dir = await writeDemoChart({ parentDir: paths(ctx.workspace).charts, name: DEMO_CHART, version: '0.1.0' });
      const templates = await readdir(join(dir, 'templates'));
      return { summary: `Chart.yaml, values.yaml, templates/ (${templates.length} files), as helm create makes`, details: { dir } };
    },
  },
  {
    id: 'package-sign',
    name: `package and sign ${DEMO_CHART} 0.1.0`,
    async run(ctx) {
      const p = paths(ctx.workspace);
      const pkg = await packageChartFlow({
        chartDir: join(p.charts, DEMO_CHART),
        destination: p.dist,
        sign: need(ctx.signer, 'the signer'),
      });
      ctx.signedChart = pkg.path;
      return {
        summary: `dist/${pkg.fileName} + .prov, sha256 ${pkg.sha256.slice(0, 12)}…`,
        details: { chart: pkg.path, provenance: `${pkg.path}.prov`, sha256: pkg.sha256 },
      };
    },
  },
  {
    id: 'start-registry',
    name: 'start the embedded registry',
    async run(ctx) {
      const dataDir = paths(ctx.workspace).registryData;
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      try {
        ctx.registry = await startRegistry({ host: '127.0.0.1', port: ctx.port, dataDir, auth: 'harbor' });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException | undefined)?.code;
        if (code === 'EADDRINUSE' || code === 'EACCES')
          throw new ServeConfigError(
            `cannot listen on 127.0.0.1:${ctx.port}: ${code === 'EADDRINUSE' ? 'the address is already in use' : 'permission denied'}`,
            { hint: 'choose another --port, or leave it out to use a free one', cause: err },
          );
        throw err;
      }
      return { summary: `${ctx.registry.url}, data in registry/`, details: { url: ctx.registry.url, port: ctx.registry.port } };
    },
  },
  {
    id: 'create-accounts',
    name: `create project ${DEMO_PROJECT} and user ${DEMO_USER}`,
    async run(ctx) {
      const accounts = need(need(ctx.registry, 'the registry').access, 'the registry accounts').accounts;
      ctx.password = generateSecret(24);
      await accounts.createProject({ name: DEMO_PROJECT });
      await accounts.addUser({ name: DEMO_USER, password: ctx.password });
      await accounts.setMember(DEMO_PROJECT, DEMO_USER, 'developer');
      return {
        summary: `${DEMO_USER} is a developer (pull, push) of ${DEMO_PROJECT}`,
        details: { project: DEMO_PROJECT, user: DEMO_USER, role: 'developer' },
      };
    },
  },
  {
    id: 'login',
    name: `log in as ${DEMO_USER}`,
    async run(ctx) {
      const r = await registryLogin({
        ...registryOpts(ctx),
        host: host(ctx),
        username: DEMO_USER,
        password: need(ctx.password, 'the password'),
      });
      return {
        summary: `credentials checked, saved in registry-config.json (not ~/.config/helm)`,
        details: { registry: r.registry, savedTo: r.savedTo },
      };
    },
  },
  {
    id: 'push-signed',
    name: `push ${DEMO_CHART} 0.1.0 with its provenance`,
    async run(ctx) {
      const pushed = await pushCharts({
        ...registryOpts(ctx),
        charts: [need(ctx.signedChart, 'the signed chart')],
        destination: `oci://${host(ctx)}/${DEMO_PROJECT}`,
        requireProvenance: true,
      });
      const r = single(pushed.results[0]);
      if (r.provenance !== 'file') throw new DemoFailedError(`${r.ref} went up without its provenance layer`);
      return {
        summary: `${r.ref.replace(/^oci:\/\//, '')} ${r.digest.slice(0, 19)}…, provenance layer`,
        details: { ref: r.ref, digest: r.digest },
      };
    },
  },
  {
    id: 'push-unsigned',
    name: `package and push ${DEMO_CHART} 0.2.0 unsigned`,
    async run(ctx) {
      const p = paths(ctx.workspace);
      const pkg = await packageChartFlow({ chartDir: join(p.charts, DEMO_CHART), destination: p.dist, version: '0.2.0' });
      ctx.unsignedChart = pkg.path;
      const r = single(
        (await pushCharts({ ...registryOpts(ctx), charts: [pkg.path], destination: `oci://${host(ctx)}/${DEMO_PROJECT}` })).results[0],
      );
      if (r.provenance !== 'none') throw new DemoFailedError(`${r.ref} went up with a provenance layer`);
      ctx.unsignedDigest = r.digest;
      return { summary: `${r.ref.replace(/^oci:\/\//, '')}, no signature yet`, details: { ref: r.ref, digest: r.digest } };
    },
  },
  {
    id: 'sign-in-registry',
    name: `sign ${DEMO_CHART} 0.2.0 in the registry`,
    async run(ctx) {
      const r = await signChartInRegistry({
        ...registryOpts(ctx),
        reference: repoRef(ctx, '0.2.0'),
        signer: need(ctx.signer, 'the signer'),
      });
      // What the step claims: signing in the registry leaves the chart as it was pushed.
      const pushed = need(ctx.unsignedDigest, 'the digest of the unsigned push');
      if (r.chart.digest !== pushed)
        throw new DemoFailedError(`the chart signed is ${r.chart.digest}, not ${pushed} as pushed unsigned: the chart digest changed`);
      return {
        summary: `provenance attached as referrer ${r.referrer.slice(0, 19)}… (${r.mode === 'api' ? 'referrers API' : 'fallback tag'}); chart digest unchanged`,
        details: { referrer: r.referrer, mode: r.mode, chartDigest: r.chart.digest },
      };
    },
  },
  {
    id: 'discover',
    name: `discover the signatures of ${DEMO_CHART}`,
    async run(ctx) {
      const keyrings = [paths(ctx.workspace).pubring];
      const [v1, v2] = await Promise.all(
        ['0.1.0', '0.2.0'].map((tag) => discover({ ...registryOpts(ctx), reference: repoRef(ctx, tag), keyrings })),
      );
      const layer = checkValid('0.1.0 provenance layer', v1!.provenanceLayer?.provenance);
      const referrers = v2!.referrers.filter((r) => r.kind === 'provenance');
      if (referrers.length !== 1) throw new DemoFailedError(`0.2.0 has ${referrers.length} provenance referrers, 1 expected`);
      checkValid('0.2.0 provenance referrer', referrers[0]!.provenance);
      return {
        summary: `0.1.0: provenance layer, valid; 0.2.0: 1 provenance referrer, valid (${layer})`,
        details: { '0.1.0': { provenanceLayer: 'valid' }, '0.2.0': { provenanceReferrers: 1, status: 'valid' } },
      };
    },
  },
  {
    id: 'pull-verify-layer',
    name: `pull --verify ${DEMO_CHART} 0.1.0 (provenance layer)`,
    run: (ctx) => pullVerified(ctx, '0.1.0'),
  },
  {
    id: 'pull-verify-referrer',
    name: `pull --verify ${DEMO_CHART} 0.2.0 (attached signature)`,
    run: (ctx) => pullVerified(ctx, '0.2.0'),
  },
  {
    id: 'verify-remote',
    name: `verify both versions in the registry`,
    async run(ctx) {
      const keyrings = [paths(ctx.workspace).pubring];
      const results = await Promise.all(
        ['0.1.0', '0.2.0'].map((tag) => verifyRemoteChart({ ...registryOpts(ctx), reference: repoRef(ctx, tag), keyrings })),
      );
      const sources = results.map((r) => `${r.version}: ${r.accepted[0]!.source}`);
      return {
        summary: `${sources.join(', ')}; nothing downloaded but signatures`,
        details: {
          verified: results.map((r) => ({ version: r.version, source: r.accepted[0]!.source, signer: r.accepted[0]!.signer.fingerprint })),
        },
      };
    },
  },
  {
    id: 'helm-pull-verify',
    name: `helm pull --verify ${DEMO_CHART} 0.1.0`,
    async run(ctx) {
      const helm = ctx.helm === undefined ? await findHelmOnPath(ctx.searchPath) : ctx.helm || undefined;
      if (!helm) {
        const why = ctx.helm === false ? 'as asked' : 'helm is not installed (not found on PATH)';
        return { summary: `skipped, ${why}`, details: { helm: null }, skipped: true };
      }
      const p = paths(ctx.workspace);
      await mkdir(p.helmPulled, { recursive: true });
      const r = await helmPullVerify({
        helm,
        ref: repoRef(ctx),
        version: '0.1.0',
        keyring: p.pubring,
        destination: p.helmPulled,
        env: ctx.env,
      });
      return {
        summary: `${r.helmVersion} verified it with keys/pubring.gpg: ${r.files.join(', ')}`,
        details: { helm, helmVersion: r.helmVersion, files: r.files },
      };
    },
  },
  ...REJECTION_STEPS,
];

async function pullVerified(ctx: DemoContext, version: string): Promise<StepOutcome> {
  const p = paths(ctx.workspace);
  const r = await pullChart({
    ...registryOpts(ctx),
    ref: repoRef(ctx),
    version,
    destination: p.pulled,
    verify: true,
    keyrings: [p.pubring],
  });
  const v = need(r.verified, 'the verification');
  if (v.signer.fingerprint !== ctx.fingerprint)
    throw new DemoFailedError(`signed by ${v.signer.fingerprint}, not by the demo key ${ctx.fingerprint}`);
  const source = v.source === 'provenance-layer' ? 'provenance layer' : v.source;
  return {
    summary: `pulled/${DEMO_CHART}-${version}.tgz + .prov, signed by ${v.signer.userId} (${source})`,
    details: { chart: r.chartPath, provenance: r.provPath, source: v.source, signer: v.signer.fingerprint, digest: r.digest },
  };
}
