// Chart folders with hostile things in them fed to `chartprov package -d
// TARGET`, each checked against what `helm package` does with the same folder:
// what Helm packages (a symlink to a file outside, followed with a warning)
// we package too, and nothing but the archive is written; what Helm refuses
// (a link to a device, a loop) we refuse with a code, along with what Helm
// would choke on (YAML bombs, a 4 GiB file), in bounded memory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, open, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runHelm } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';
import { tgzContents } from '../chart/support.js';
import { CHART_YAML, HOSTILE_ARCHIVES, aliasedStringsBomb, billionLaughs, laughs, manyAnchors } from './corpus.js';
import { inSandbox, judge, makeSandbox, resetTarget, type Sandbox } from './harness.js';

interface HostileFolder {
  id: string;
  what: string;
  /** Adds the hostile part to `dir`, a chart folder holding Chart.yaml and templates/. */
  make: (dir: string, outside: string) => Promise<void>;
  code: string;
  /** What `helm package` (Helm 4) does, measured; skipped where Helm would need gigabytes to find out. */
  helm?: 'packages' | 'refuses';
}

const FOLDERS: HostileFolder[] = [
  {
    id: 'symlink-out',
    what: 'templates/leak.yaml → a file outside the chart (Helm follows it, with a warning)',
    make: (dir, outside) => symlink(join(outside, 'decoy.txt'), join(dir, 'templates', 'leak.yaml')),
    code: 'ok',
    helm: 'packages',
  },
  {
    id: 'symlink-device',
    what: 'a symlink to /dev/zero (endless if read)',
    make: (dir) => symlink('/dev/zero', join(dir, 'zero')),
    code: 'NOT_A_CHART',
    helm: 'refuses',
  },
  {
    id: 'fifo',
    what: 'a FIFO nobody writes to (a reader that opens it hangs)',
    make: async (dir) => {
      execFileSync('mkfifo', [join(dir, 'pipe')]);
    },
    code: 'NOT_A_CHART',
    helm: 'refuses',
  },
  {
    id: 'symlink-loop',
    what: 'templates/loop → the chart folder itself',
    make: (dir) => symlink('..', join(dir, 'templates', 'loop')),
    code: 'NOT_A_CHART',
  },
  {
    id: 'dangling-symlink',
    what: 'a symlink to nowhere',
    make: (dir) => symlink('/nonexistent/chartprov-hostile', join(dir, 'templates', 'gone.yaml')),
    code: 'NOT_A_CHART',
    helm: 'refuses',
  },
  {
    id: 'sparse-4gib',
    what: 'a sparse 4 GiB file (stat says 4 GiB; reading it would take them)',
    make: async (dir) => {
      const fh = await open(join(dir, 'huge.bin'), 'w');
      await fh.truncate(4 * 1024 ** 3);
      await fh.close();
    },
    code: 'NOT_A_CHART',
  },
  {
    id: 'non-utf8-name',
    what: 'a file named with bytes that are not UTF-8 (Helm packs them as they are)',
    make: (dir) => writeFile(Buffer.concat([Buffer.from(`${dir}/templates/`), Buffer.from([0xff, 0xfe]), Buffer.from('.yaml')]), 'a: 1\n'),
    code: 'NOT_A_CHART',
    helm: 'packages',
  },
  {
    id: 'chart-yaml-laughs',
    what: 'Chart.yaml "billion laughs"',
    make: (dir) => writeFile(join(dir, 'Chart.yaml'), billionLaughs()),
    code: 'CHART_YAML_INVALID',
    helm: 'refuses',
  },
  {
    id: 'chart-yaml-aliased-strings',
    what: 'Chart.yaml with 20,000 aliases to a 64 KiB string (1.3 GB expanded)',
    make: (dir) => writeFile(join(dir, 'Chart.yaml'), aliasedStringsBomb()),
    code: 'CHART_YAML_INVALID',
  },
  {
    id: 'values-laughs',
    what: 'values.yaml "billion laughs"',
    make: (dir) => writeFile(join(dir, 'values.yaml'), laughs()),
    code: 'NOT_A_CHART',
    helm: 'refuses',
  },
  {
    id: 'values-many-anchors',
    what: 'values.yaml with 25,000 distinct anchors each aliased once (minutes for a per-alias document scan)',
    make: (dir) => writeFile(join(dir, 'values.yaml'), `${manyAnchors()}\n`),
    code: 'ok',
    helm: 'packages',
  },
  {
    id: 'hostile-subchart',
    what: 'charts/sub-1.0.0.tgz holding a "../../../escaped.txt" entry',
    make: async (dir, outside) => {
      await mkdir(join(dir, 'charts'));
      await writeFile(join(dir, 'charts', 'sub-1.0.0.tgz'), await HOSTILE_ARCHIVES.find((a) => a.id === 'dotdot')!.build(outside));
    },
    code: 'CHART_ARCHIVE_INVALID',
    helm: 'refuses',
  },
];

describe('hostile chart folders → chartprov package', () => {
  let sb: Sandbox;
  let helmOut: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    [sb, helmOut] = await Promise.all([makeSandbox(), tempDir('chartprov-hostile-helm-')]);
  });
  after(async () => {
    await sb?.cleanup();
    await helmOut?.cleanup();
  });

  for (const f of FOLDERS) {
    it(`${f.id}: ${f.what}`, async () => {
      await resetTarget(sb);
      const dir = join(sb.inputs, f.id, 'evil');
      await mkdir(join(dir, 'templates'), { recursive: true });
      await writeFile(join(dir, 'Chart.yaml'), CHART_YAML);
      await f.make(dir, sb.outside);

      const { run, lost } = await inSandbox(sb, ['package', dir, '-d', sb.target, '-o', 'json']);
      judge({ item: `chart folder: ${f.what} → package`, run, code: f.code, lost });
      const written = await readdir(sb.target);
      if (f.code === 'ok') assert.deepEqual(written, ['evil-1.0.0.tgz']);
      else assert.deepEqual(written, [], 'a refused package leaves nothing in the target');

      if (f.helm) {
        const helm = await runHelm(4, ['package', dir, '-d', join(helmOut.dir, f.id)]);
        assert.equal(helm.code === 0 ? 'packages' : 'refuses', f.helm, `helm package: ${helm.stdout}${helm.stderr}`);
      }
    });
  }

  it("the followed symlink's content is what goes into the archive, with Helm's warning", async () => {
    await resetTarget(sb);
    const dir = join(sb.inputs, 'symlink-content', 'evil');
    await mkdir(join(dir, 'templates'), { recursive: true });
    await writeFile(join(dir, 'Chart.yaml'), CHART_YAML);
    await symlink(join(sb.outside, 'decoy.txt'), join(dir, 'templates', 'leak.yaml'));
    const { run } = await inSandbox(sb, ['package', dir, '-d', sb.target]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /symbolic link/);
    const contents = await tgzContents(join(sb.target, 'evil-1.0.0.tgz'));
    assert.equal(contents.get('evil/templates/leak.yaml'), 'must not change\n');
  });
});
