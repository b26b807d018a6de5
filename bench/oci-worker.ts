// The child process of the OCI benchmark (bench/oci.ts): one library operation
// per process, so its wall time includes Node's start-up and module loading,
// and its peak RSS belongs to that operation alone. Prints one JSON line:
// { importMs, workMs, maxRssKiB, ... } — importMs from process start to the
// library being loaded, workMs the operation itself.
//
//   node dist/bench/oci-worker.js pull-charts HOST REPO DEST VERSION…
//   node dist/bench/oci-worker.js push-charts HOST PATH CHART.tgz…
//   node dist/bench/oci-worker.js push-blob HOST REPO FILE [sha256:DIGEST]
//   node dist/bench/oci-worker.js pull-blob HOST REPO sha256:DIGEST SIZE TARGET|-
//   node dist/bench/oci-worker.js import-only HOST REPO   (the floor: Node + the client module loaded)
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';

function report(extra: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...extra, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [mode, host, repoName, ...rest] = argv;
  if (!mode || !host || !repoName) throw new Error('usage: oci-worker MODE HOST REPO …');
  switch (mode) {
    case 'pull-charts': {
      const [dest, ...versions] = rest;
      const { pullChart } = await import('../src/flows/pull-chart.js');
      const { RegistryClient } = await import('../src/oci/client.js');
      const importMs = performance.now();
      const client = await RegistryClient.create({ plainHttp: true });
      try {
        const t0 = performance.now();
        const results = await Promise.all(
          versions.map((version) => pullChart({ client, ref: `oci://${host}/${repoName}`, version, destination: dest })),
        );
        const workMs = performance.now() - t0;
        const missingProv = results.filter((r) => !r.provPath).length;
        report({ importMs, workMs, pulled: results.length, missingProv });
      } finally {
        await client.close();
      }
      return;
    }
    case 'push-charts': {
      const { pushCharts } = await import('../src/flows/push-charts.js');
      const importMs = performance.now();
      const t0 = performance.now();
      const result = await pushCharts({ charts: rest, destination: `oci://${host}/${repoName}`, plainHttp: true });
      const workMs = performance.now() - t0;
      if (result.failed) throw new Error(`${result.failed} pushes failed: ${JSON.stringify(result.results.find((r) => !r.ok))}`);
      report({ importMs, workMs, pushed: result.pushed });
      return;
    }
    case 'push-blob': {
      const [file, digest] = rest;
      const { RegistryClient } = await import('../src/oci/client.js');
      const importMs = performance.now();
      const client = await RegistryClient.create({ plainHttp: true });
      try {
        const repo = client.repository(host, repoName);
        const t0 = performance.now();
        const pushed = await repo.pushBlob({ path: file! }, digest ? { digest } : {});
        const workMs = performance.now() - t0;
        if (pushed.how !== 'uploaded') throw new Error(`blob was ${pushed.how}, not uploaded: the repository was not fresh`);
        report({ importMs, workMs, digest: pushed.digest, size: pushed.size, how: pushed.how });
      } finally {
        await client.close();
      }
      return;
    }
    case 'pull-blob': {
      const [digest, sizeText, target] = rest;
      const size = Number(sizeText);
      const { RegistryClient } = await import('../src/oci/client.js');
      const importMs = performance.now();
      const client = await RegistryClient.create({ plainHttp: true });
      try {
        const repo = client.repository(host, repoName);
        const t0 = performance.now();
        if (target === '-') {
          // Network + digest check only: the verifying stream into a sink.
          let bytes = 0;
          const sink = new Writable({
            write(chunk: Buffer, _enc, done) {
              bytes += chunk.length;
              done();
            },
          });
          await pipeline(await repo.openBlob({ digest: digest!, size }), sink);
          if (bytes !== size) throw new Error(`read ${bytes} bytes, expected ${size}`);
        } else {
          await repo.fetchBlobToFile({ digest: digest!, size }, target!);
        }
        const workMs = performance.now() - t0;
        report({ importMs, workMs, size });
      } finally {
        await client.close();
      }
      return;
    }
    case 'import-only': {
      const { RegistryClient } = await import('../src/oci/client.js');
      const importMs = performance.now();
      const client = await RegistryClient.create({ plainHttp: true });
      await client.close();
      report({ importMs, workMs: 0 });
      return;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`oci-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
