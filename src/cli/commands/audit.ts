import { auditRegistry, type AuditProgress } from '../../flows/audit.js';
import { checkAuditHtmlDestination, writeAuditHtml } from '../../flows/audit-html.js';
import { ChartprovError, UsageError } from '../../errors.js';
import { toCodedError } from '../../flows/pool.js';
import { printFailure, printJson, println, progress, warn, type OutputFormat } from '../output.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';
import { auditSummaryLine, auditTable } from './audit-table.js';

interface AuditFlags extends RegistryFlags {
  keyring?: string[];
  policy?: string;
  html?: string;
  jobs: string;
  output: OutputFormat;
}

export async function auditCommand(target: string, flags: AuditFlags): Promise<number> {
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive integer, not ${flags.jobs}`);
  // A page that could not be written fails now, not after the whole audit.
  if (flags.html) await checkAuditHtmlDestination(flags.html);
  let bar: ReturnType<typeof progress> | undefined;
  const onProgress = (e: AuditProgress) => {
    if (flags.output === 'json') return;
    if (e.type === 'versions') bar = progress('auditing', e.total);
    else if (e.type === 'version') bar?.tick(e.done);
  };
  let report;
  try {
    report = await auditRegistry({
      ...registryOptionsFromFlags(flags),
      target,
      keyrings: flags.keyring,
      policyFile: flags.policy,
      jobs,
      onProgress,
    });
  } finally {
    bar?.end();
  }
  if (report.listing === 'given' || flags.debug) for (const note of report.notes) warn(`listing: ${note}`);
  // The report first: a page that fails to write at the end (disk full, folder gone) must not hide it.
  if (flags.output === 'json') {
    printJson(report);
  } else {
    for (const line of auditTable(report)) println(line);
    println();
    println(auditSummaryLine(report));
  }
  if (flags.html) {
    try {
      await writeAuditHtml(report, flags.html);
    } catch (err) {
      // Thrown, it would add a second JSON document after the report on stdout.
      if (flags.output !== 'json') throw err;
      const failure = toCodedError(err);
      printFailure(failure);
      return err instanceof ChartprovError ? err.exitCode : 70;
    }
    if (flags.output !== 'json') println(`report: ${flags.html}`);
  }
  return report.ok ? 0 : 1;
}
