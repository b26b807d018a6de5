// Public API of the chart module: load, package and read Helm charts.
export type { ChartDependency, ChartMaintainer, ChartMetadata } from './metadata-types.js';
export { isHelmVersion, normalizeMetadata, parseChartYaml, type ParseChartYamlOptions } from './metadata.js';
export { marshalChartYaml, marshalMetadata, sanitizeString } from './metadata-encode.js';
export { DEFAULT_IGNORE_PATTERNS, goMatch, parseHelmignore, type HelmIgnoreRules } from './helmignore.js';
export { loadChartDir, type ChartFile, type LoadChartDirOptions, type LoadedChart } from './load.js';
export {
  DEFAULT_MTIME,
  packageChart,
  packageChartToBuffer,
  resolveMtime,
  type PackageChartOptions,
  type PackagedChart,
  type PackageResult,
} from './package.js';
export { readChartArchive, type ChartArchiveInfo, type ReadChartArchiveOptions } from './archive.js';
export { marshalChartLock, parseChartLock, type ChartLock } from './lock.js';
export { marshalGoYaml, type JsonValue } from './go-yaml-encode.js';
export { MAX_CHART_BYTES, MAX_FILE_BYTES } from './tar-read.js';
