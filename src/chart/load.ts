/**
 * Loading a chart folder the way `helm package` does (helm pkg/chart/loader):
 * walk the folder in lexical order following symlinks, drop what .helmignore
 * ignores, strip UTF-8 BOMs, then sort the files into Helm's parts and load
 * each `charts/` entry as a dependency, a folder or a .tgz (unpacked: Helm
 * re-packs it as a folder named after the subchart).
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileNotFoundError, NotAChartError } from '../errors.js';
import { type HelmIgnoreRules, parseHelmignore } from './helmignore.js';
import { type ChartFile, type LoadedChart, assembleChart } from './assemble.js';
import { MAX_CHART_BYTES, MAX_FILE_BYTES } from './tar-read.js';

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
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new FileNotFoundError(dir, 'chart folder');
    throw new NotAChartError(`cannot read ${dir}: ${err.message}`, { cause: err });
  });
  if (!info.isDirectory()) throw new NotAChartError(`${dir} is not a folder`, { hint: 'pass the folder that holds Chart.yaml' });

  const ignoreText = await readFile(join(top, '.helmignore'), 'utf8').catch(() => undefined);
  const rules = parseHelmignore(ignoreText ?? '', { source: `${dir}/.helmignore` });

  const warnings: string[] = [];
  const walker = new Walker(rules, (m) => {
    warnings.push(m);
    opts.onWarning?.(m);
  });
  await walker.walk(top, '', [await realpath(top)]);
  const chart = await assembleChart(walker.files, { label: dir });
  chart.warnings.push(...warnings);
  return chart;
}

/** sympath.Walk + Helm's walk function. */
class Walker {
  files: ChartFile[] = [];
  private total = 0;

  constructor(
    private readonly rules: HelmIgnoreRules,
    private readonly warn: (message: string) => void,
  ) {}

  /** `ancestors` holds the real paths of the folders above, to stop symlink loops. */
  async walk(abs: string, rel: string, ancestors: string[]): Promise<void> {
    const names = (await readdir(abs)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      let info = await lstat(childAbs);
      let real: string | undefined;
      if (info.isSymbolicLink()) {
        real = await realpath(childAbs).catch((err: NodeJS.ErrnoException) => {
          throw new NotAChartError(`${childRel} is a symbolic link Helm cannot follow: ${err.code ?? err.message}`, {
            hint: 'fix or remove the link',
          });
        });
        info = await stat(real);
        this.warn(`found symbolic link in path: ${childRel} resolves to ${real}; contents of linked file included and used`);
      }
      if (info.isDirectory()) {
        if (this.rules.ignores(childRel, true)) continue;
        const realDir = real ?? (await realpath(childAbs));
        if (ancestors.includes(realDir)) {
          throw new NotAChartError(`${childRel} is a symbolic link to a folder that contains it (a loop)`, {
            hint: 'remove the link or add it to .helmignore',
          });
        }
        await this.walk(childAbs, childRel, [...ancestors, realDir]);
        continue;
      }
      if (this.rules.ignores(childRel, false)) continue;
      if (!info.isFile()) throw new NotAChartError(`cannot load irregular file ${childRel}: it is not a regular file`);
      if (info.size > MAX_FILE_BYTES) {
        throw new NotAChartError(`chart file ${childRel} is larger than the maximum file size ${MAX_FILE_BYTES}`);
      }
      this.total += info.size;
      if (this.total > MAX_CHART_BYTES) {
        throw new NotAChartError(`the chart's files add up to more than ${MAX_CHART_BYTES} bytes, more than Helm loads from an archive`);
      }
      const data = await readFile(childAbs);
      this.files.push({ name: childRel, data: stripBom(data) });
    }
  }
}

function stripBom(data: Buffer): Buffer {
  return data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? data.subarray(3) : data;
}
