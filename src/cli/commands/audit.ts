import { auditRegistry, type AuditProgress } from '../../flows/audit.js';
import { writeAuditHtml } from '../../flows/audit-html.js';
import { UsageError } from '../../errors.js';
import { printJson, println, progress, warn, type OutputFormat } from '../output.js';
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
  if (flags.html) await writeAuditHtml(report, flags.html);
  if (report.listing === 'given' || flags.debug) for (const note of report.notes) warn(`listing: ${note}`);
  if (flags.output === 'json') {
    printJson(report);
  } else {
    for (const line of auditTable(report)) println(line);
    println();
    println(auditSummaryLine(report));
    if (flags.html) println(`report: ${flags.html}`);
  }
  return report.ok ? 0 : 1;
}
