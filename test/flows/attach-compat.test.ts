// A registry from before OCI 1.1 that refuses manifests with `subject` or
// `artifactType` (older Quay, ECR and Artifactory answered 400
// MANIFEST_INVALID): docker-registry 2.8 behind a proxy that refuses them.
// attach stores the provenance in the older form, listed under the fallback
// tag, and pull --verify, verify oci:// and discover find it there.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goldens, verifiedPullArgs } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { runHelm } from '../peers/helm.js';
import { keyFile } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
let dr: DockerRegistry;
let proxy: Server;
let host: string;
/** Manifest PUTs the proxy refused. */
let refused = 0;

/** Forwards everything to `target`, except manifest PUTs that carry OCI 1.1 fields: 400 MANIFEST_INVALID. */
function refusingProxy(target: string): Server {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'PUT' && /\/manifests\//.test(req.url ?? '')) {
        const m = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        if ('subject' in m || 'artifactType' in m) {
          refused++;
          const text = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid', detail: 'unknown field' }] });
          res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
      }
      const upstream = request(
        { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...req.headers, host: target } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
}

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-attach-compat-'));
  dr = await startDockerRegistry();
  proxy = refusingProxy(dr.host);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await dr?.stop();
  await cleanup?.();
});

describe('attach on a registry that refuses OCI 1.1 manifests', () => {
  const cli = (args: string[]) => runCli([...args, '--plain-http']);
  const ref = () => `oci://${host}/charts/hello-world:0.1.0`;

  test('the provenance is stored without subject, under the fallback tag; verify, pull --verify and discover find it', async () => {
    await mkdir(join(work, 'bare'));
    const bare = join(work, 'bare', 'hello-world-0.1.0.tgz');
    await copyFile(goldens.helm4.chart, bare);
    const pushed = await cli(['push', bare, `oci://${host}/charts`, '-o', 'json']);
    assert.equal(pushed.code, 0, pushed.stderr);
    const digest = JSON.parse(pushed.stdout).results[0].digest as string;

    const attached = await cli(['attach', ref(), goldens.helm4.prov, '--keyring', keyFile('all-pubring.gpg'), '-o', 'json']);
    assert.equal(attached.code, 0, attached.stderr);
    const r = JSON.parse(attached.stdout);
    assert.ok(refused >= 1, 'the 1.1 form was tried first');
    assert.equal(r.mode, 'fallback');
    assert.equal(r.chart.digest, digest, 'the chart is untouched');
    assert.ok(
      r.warnings.some((w: string) => /older form/.test(w)),
      JSON.stringify(r.warnings),
    );

    // The stored artifact: the type as the config's media type, the chart named in an annotation.
    const raw = await fetch(`http://${dr.host}/v2/charts/hello-world/manifests/${r.referrer}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const bytes = Buffer.from(await raw.arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, r.referrer);
    const m = JSON.parse(bytes.toString('utf8'));
    assert.equal(m.subject, undefined);
    assert.equal(m.artifactType, undefined);
    assert.equal(m.config.mediaType, 'application/vnd.cncf.helm.chart.provenance.v1.prov');
    assert.equal(m.annotations['io.chartprov.subject'], digest);

    const again = await cli(['attach', ref(), goldens.helm4.prov, '-o', 'json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).created, false, 'found by its prov: nothing stored twice');
    assert.equal(JSON.parse(again.stdout).referrer, r.referrer);

    const verified = await cli(['verify', ref(), '--keyring', keyFile('all-pubring.gpg'), '-o', 'json']);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(JSON.parse(verified.stdout).accepted[0].source, 'fallback-tag');

    const dest = join(work, 'pulled');
    const pulled = await cli([...verifiedPullArgs(`oci://${host}/charts/hello-world`, dest), '-o', 'json']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(JSON.parse(pulled.stdout).verified.signer.userId, /John The Signer/);
    const helm = await runHelm(4, ['verify', join(dest, 'hello-world-0.1.0.tgz'), '--keyring', keyFile('all-pubring.gpg')]);
    assert.equal(helm.code, 0, helm.stderr);

    const found = await cli(['discover', ref(), '-o', 'json']);
    assert.equal(found.code, 0, found.stderr);
    assert.ok(found.stdout.includes(r.referrer), found.stdout);
  });

  test('sign in place works there too', async () => {
    const signed = await cli(['sign', ref(), '--key', 'Jane', '--keyring', keyFile('jane-secring.gpg'), '-o', 'json']);
    assert.equal(signed.code, 0, signed.stderr);
    const verified = await cli(['verify', ref(), '--keyring', keyFile('all-pubring.gpg'), '--require-signers', '2', '-o', 'json']);
    assert.equal(verified.code, 0, verified.stderr);
  });
});
