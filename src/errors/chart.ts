/** Chart folders, Chart.yaml and chart archives. */
import { ChartprovError, type ErrorDetails } from './base.js';

/** The path is not a chart folder or not a chart archive. */
export class NotAChartError extends ChartprovError {
  readonly code = 'NOT_A_CHART';
  protected get defaultHint(): string {
    return 'point to a chart folder holding Chart.yaml or a chart .tgz';
  }
}

/** Chart.yaml exists but a field is missing or wrong. */
export class ChartYamlError extends ChartprovError {
  readonly code = 'CHART_YAML_INVALID';
  protected get defaultHint(): string {
    return 'fix Chart.yaml: apiVersion, name and a SemVer version are required';
  }
  constructor(
    readonly field: string,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, { hint: `fix the "${field}" field in Chart.yaml`, ...details });
  }
}

/** The archive is not a readable gzip'd tar, or holds unsafe entries. */
export class ChartArchiveError extends ChartprovError {
  readonly code = 'CHART_ARCHIVE_INVALID';
  protected get defaultHint(): string {
    return 're-package the chart with helm package or chartprov package';
  }
}
