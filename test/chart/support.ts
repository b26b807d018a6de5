// Helpers shared by the chart tests: fixture paths and archive inspection.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { repoRoot } from '../peers/paths.js';

export const chartFixtures = join(repoRoot, 'test', 'fixtures', 'charts');
export const helloWorldHelm3 = join(repoRoot, '..', 'shared', 'fixtures', 'helm3', 'hello-world-0.1.0.tgz');

export interface TarItem {
  path: string;
  type: string;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  uname: string | undefined;
  gname: string | undefined;
  mtime: Date | undefined;
  data: Buffer;
}

/** Every entry of a .tgz (path, header fields, contents), in order. */
export async function readTgz(file: string | Buffer): Promise<TarItem[]> {
  const bytes = typeof file === 'string' ? await readFile(file) : file;
  const items: TarItem[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({ strict: true });
    parser.on('entry', (e: ReadEntry) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () =>
        items.push({
          path: e.path,
          type: e.type,
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          uname: e.uname,
          gname: e.gname,
          mtime: e.mtime,
          data: Buffer.concat(chunks),
        }),
      );
    });
    parser.on('end', resolve);
    parser.on('error', reject);
    parser.end(bytes);
  });
  return items;
}

/** path → contents, for comparing what two archives hold. */
export async function tgzContents(file: string | Buffer): Promise<Map<string, string>> {
  return new Map((await readTgz(file)).map((i) => [i.path, i.data.toString('utf8')]));
}
