// bin/chartprov.cjs runs cached V8 code: it must use only a cache the user
// owns and nobody else can write, made for these exact bundle bytes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../peers/cli.js';
import { launcherPath } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: work, cleanup } = await tempDir()));
after(() => cleanup());

describe('compile cache', () => {
  it('is written after a successful run, per command, private to the user', async () => {
    const cache = join(work, 'c1'); // like a missing ~/.cache: created
    const r = await runCli(['--help'], { env: { XDG_CACHE_HOME: cache } });
    assert.equal(r.code, 0);
    const files = await readdir(join(cache, 'chartprov'));
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^compile-[0-9a-f]{16}-v\d+\.\d+\.\d+-other\.v8$/);
    const again = await runCli(['--help'], { env: { XDG_CACHE_HOME: cache } });
    assert.equal(again.stdout, r.stdout);
  });

  it('is not written after a failed run', async () => {
    const cache = join(work, 'c2');
    await mkdir(cache);
    const r = await runCli(['verify', join(work, 'missing.tgz'), '--keyring', join(work, 'none.gpg')], { env: { XDG_CACHE_HOME: cache } });
    assert.equal(r.code, 1);
    assert.deepEqual(await readdir(join(cache, 'chartprov')).catch(() => []), []);
  });

  it('ignores a cache folder others can write, and a planted cache file', async () => {
    const cache = join(work, 'c3');
    await mkdir(join(cache, 'chartprov'), { recursive: true });
    await chmod(join(cache, 'chartprov'), 0o777);
    const ok = await runCli(['--help'], { env: { XDG_CACHE_HOME: cache } });
    assert.equal(ok.code, 0);
    assert.deepEqual(await readdir(join(cache, 'chartprov')), [], 'nothing written into a shared folder');
    // Garbage where a cache would be: never executed, never an error.
    await chmod(join(cache, 'chartprov'), 0o700);
    await mkdir(join(work, 'c4'));
    const first = await runCli(['--help'], { env: { XDG_CACHE_HOME: join(work, 'c4') } });
    const name = (await readdir(join(work, 'c4', 'chartprov')))[0]!;
    await writeFile(join(cache, 'chartprov', name), Buffer.alloc(4096, 0x41), { mode: 0o600 });
    const r = await runCli(['--help'], { env: { XDG_CACHE_HOME: cache } });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, first.stdout);
  });
});

describe('the chartprov launcher', () => {
  it('runs through a symlink (as npm links it) and keeps Node from loading NODE_EXTRA_CA_CERTS at start', async () => {
    const link = join(work, 'chartprov');
    await symlink(launcherPath, link);
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        link,
        ['--version'],
        { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(work, 'no-such-ca.pem') } },
        (err, stdout, stderr) => {
          if (err && typeof (err as { code?: unknown }).code !== 'number') reject(err);
          else resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
        },
      );
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
    // Node itself would warn that it cannot load the file: it never saw it.
    assert.doesNotMatch(r.stderr, /extra certs/i);
  });
});
