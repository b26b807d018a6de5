// A classic chart repository (index.yaml over HTTP) that misbehaves, through
// the real CLI: one that never answers fails with REGISTRY_TIMEOUT within
// --timeout, and one whose error page quotes the request's Authorization
// header never brings the password into chartprov's message.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../peers/cli.js';
import { recordFigure } from '../peers/figures.js';
import { rememberSecret } from '../peers/secrets.js';
import { tempDir } from '../peers/tmp.js';

const PASSWORD = 'Repo-Pa55word-quoted';
rememberSecret('classic repository password (classic-repo-faults)', PASSWORD);

let server: Server;
let base: string;
let work: string;
let cleanup: () => Promise<void>;
const hanging = new Set<ServerResponse>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.url?.startsWith('/silent/')) {
    hanging.add(res); // never answered: the client's timeout must end it
    return;
  }
  // An error page that quotes the request, as some proxies' debug pages do.
  const quoted = `<html><body><h1>500 Internal Server Error</h1><pre>GET ${req.url}\nAuthorization: ${req.headers.authorization ?? '-'}</pre></body></html>`;
  res.writeHead(500, { 'content-type': 'text/html' });
  res.end(quoted);
}

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-repo-faults-'));
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await cleanup();
});

describe('classic chart repository faults', () => {
  it('a repository that never answers: REGISTRY_TIMEOUT within --timeout, nothing written', async () => {
    const out = join(work, 'silent');
    const t0 = Date.now();
    const r = await runCli(['pull', 'hello-world', '--repo', `${base}/silent/`, '--timeout', '1s', '-d', out]);
    const ms = Date.now() - t0;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[REGISTRY_TIMEOUT\]: 127\.0\.0\.1:\d+ sent no answer for 1 s/m);
    assert.ok(ms < 15_000, `gave up after ${ms} ms`);
    assert.deepEqual(await readdir(out).catch(() => []), []);
    recordFigure({
      area: 'client',
      item: 'classic repository that never answers, pull --repo --timeout 1s',
      tried: 1,
      outcome: `exit 1 REGISTRY_TIMEOUT after ${ms} ms`,
      lost: 0,
    });
  });

  it("an error page quoting the request's Authorization header: the password and its Basic form are not repeated", async () => {
    const r = await runCli(
      ['pull', 'hello-world', '--repo', `${base}/repo/`, '--username', 'alice', '--password-stdin', '-d', join(work, 'quoted')],
      {
        input: `${PASSWORD}\n`,
      },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[REGISTRY_ERROR\]: 127\.0\.0\.1:\d+ answered 500/m);
    assert.match(r.stderr, /Authorization: Basic \*\*\*/, 'the quote is kept, the credential masked');
    const basic = Buffer.from(`alice:${PASSWORD}`).toString('base64');
    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(PASSWORD) && !text.includes(basic), 'no credential in the output');
    }
    recordFigure({
      area: 'secrets',
      item: 'classic repository error page quoting Authorization',
      tried: 1,
      outcome: 'REGISTRY_ERROR, credential masked',
      lost: 0,
    });
  });
});
