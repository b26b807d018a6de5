/**
 * Loading a chart folder the way `helm package` does (helm pkg/chart/loader):
 * walk the folder in lexical order following symlinks, drop what .helmignore
 * ignores, strip UTF-8 BOMs, then sort the files into Helm's parts and load
 * each `charts/` entry as a dependency, a folder or a .tgz (unpacked: Helm
 * re-packs it as a folder named after the subchart).
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ChartprovError, FileNotFoundError, FileReadError, NotAChartError } from '../errors.js';
import { type HelmIgnoreRules, parseHelmignore } from './helmignore.js';
import { type ChartFile, type LoadedChart, assembleChart } from './assemble.js';
import { shown } from './show.js';
import { MAX_CHART_BYTES, MAX_FILE_BYTES } from './tar-read.js';
import { isUtf8 } from './utf8.js';

export type { ChartFile, LoadedChart } from './assemble.js';

export interface LoadChartDirOptions {
  /** Called for each symlink followed (Helm logs these). */
  onWarning?: (message: string) => void;
}

/**
 * Loads a chart folder. Missing folder → FileNotFoundError; no Chart.yaml
 * (or one .helmignore drops) → NotAChartError "Chart.yaml file is missing";
 * a bad Chart.yaml → ChartYamlError.
 */
export async function loadChartDir(dir: string, opts: LoadChartDirOptions = {}): Promise<LoadedChart> {
  const top = resolve(dir);
  const info = await stat(top).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new FileNotFoundError(dir, 'chart folder', { cause: err });
    throw new FileReadError(dir, 'chart folder', { cause: err });
  });
  if (!info.isDirectory()) throw new NotAChartError(`${shown(dir)} is not a folder`, { hint: 'pass the folder that holds Chart.yaml' });

  // Helm skips a missing .helmignore but fails on one it cannot read.
  const ignorePath = join(top, '.helmignore');
  const ignoreText = await readFile(ignorePath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw fsError(ignorePath, 'file', err);
  });
  const rules = parseHelmignore(ignoreText ?? '', { source: shown(`${dir}/.helmignore`) });

  const warnings: string[] = [];
  const walker = new Walker(rules, (m) => {
    warnings.push(m);
    opts.onWarning?.(m);
  });
  await walker.walk(top, '', [await fsCall(top, 'chart folder', () => realpath(top))]);
  const chart = await assembleChart(await walker.finished(), { label: shown(dir) });
  chart.warnings.push(...warnings);
  return chart;
}

/** sympath.Walk + Helm's walk function. */
class Walker {
  files: ChartFile[] = [];
  private readonly reads: Promise<void>[] = [];
  private total = 0;

  /** Waits for the file reads the walk started. */
  async finished(): Promise<ChartFile[]> {
    await Promise.all(this.reads);
    return this.files;
  }

  constructor(
    private readonly rules: HelmIgnoreRules,
    private readonly warn: (message: string) => void,
  ) {}

  /** `ancestors` holds the real paths of the folders above, to stop symlink loops. */
  async walk(abs: string, rel: string, ancestors: string[]): Promise<void> {
    // Names as bytes: Linux allows any, and one that is not UTF-8 has no string that opens it.
    const raw = (await fsCall(abs, 'folder', () => readdir(abs, { encoding: 'buffer' }))).sort(Buffer.compare);
    const names = raw.map((bytes) => bytes.toString('utf8'));
    const rawPath = (bytes: Buffer) => Buffer.concat([Buffer.from(`${abs}/`), bytes]);
    // Every entry of a folder is looked at in one go: file-system round trips, not CPU, are the cost here.
    const infos = await Promise.all(raw.map((bytes, i) => fsCall(join(abs, names[i]!), 'file', () => lstat(rawPath(bytes)))));
    for (const [i, name] of names.entries()) {
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      let info = infos[i]!;
      if (!isUtf8(raw[i]!)) {
        // Helm packs such a name as bytes; we cannot read it back as the same string.
        if (this.rules.ignores(childRel, info.isDirectory())) continue;
        throw new NotAChartError(`${shown(childRel)} has a file name that is not UTF-8 (shown with U+FFFD)`, {
          hint: 'rename the file (e.g. convmv -f latin1 -t utf8 --notest), or add it to .helmignore',
        });
      }
      let real: string | undefined;
      if (info.isSymbolicLink()) {
        real = await realpath(childAbs).catch((err: NodeJS.ErrnoException) => {
          throw new NotAChartError(`${shown(childRel)} is a symbolic link Helm cannot follow: ${err.code ?? err.message}`, {
            hint: 'fix or remove the link',
          });
        });
        const target = real;
        info = await fsCall(target, 'file', () => stat(target));
        this.warn(`found symbolic link in path: ${shown(childRel)} resolves to ${real}; contents of linked file included and used`);
      }
      if (info.isDirectory()) {
        if (this.rules.ignores(childRel, true)) continue;
        const realDir = real ?? (await fsCall(childAbs, 'folder', () => realpath(childAbs)));
        if (ancestors.includes(realDir)) {
          throw new NotAChartError(`${shown(childRel)} is a symbolic link to a folder that contains it (a loop)`, {
            hint: 'remove the link or add it to .helmignore',
          });
        }
        await this.walk(childAbs, childRel, [...ancestors, realDir]);
        continue;
      }
      if (this.rules.ignores(childRel, false)) continue;
      if (!info.isFile())
        throw new NotAChartError(`cannot load irregular file ${shown(childRel)}: it is not a regular file`, {
          hint: 'remove it or add it to .helmignore',
        });
      if (info.size > MAX_FILE_BYTES) {
        throw new NotAChartError(`chart file ${shown(childRel)} is larger than the maximum file size ${MAX_FILE_BYTES}`, {
          hint: 'Helm loads files up to 5 MiB; add it to .helmignore or make it smaller',
        });
      }
      this.total += info.size;
      if (this.total > MAX_CHART_BYTES) {
        throw new NotAChartError(`the chart's files add up to more than ${MAX_CHART_BYTES} bytes, more than Helm loads from an archive`, {
          hint: 'add large files to .helmignore',
        });
      }
      // Read in parallel; the entry keeps its place in the walk order.
      const file: ChartFile = { name: childRel, data: new Uint8Array(0) };
      this.files.push(file);
      const read = fsCall(childAbs, 'file', () => readFile(childAbs)).then((data) => {
        file.data = stripBom(data);
      });
      read.catch(() => undefined); // awaited in finished(); never an unhandled rejection meanwhile
      this.reads.push(read);
    }
  }
}

/**
 * Runs one file-system call, turning its error into a coded one: a file that
 * vanished mid-walk is FileNotFoundError, anything else (no permission, I/O
 * error) FileReadError, so the CLI never prints a raw Node error.
 */
async function fsCall<T>(path: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw fsError(path, what, err);
  }
}

function fsError(path: string, what: string, err: unknown): Error {
  if (err instanceof ChartprovError) return err;
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new FileNotFoundError(path, what, { cause: err });
  return new FileReadError(path, what, { cause: err });
}

function stripBom(data: Buffer): Buffer {
  return data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? data.subarray(3) : data;
}
