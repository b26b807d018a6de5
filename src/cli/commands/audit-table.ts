// `chartprov audit` as text: one row per version in aligned columns, then the counts.
import type { AuditedVersion, AuditReport } from '../../flows/audit.js';

const HEADERS = ['REPOSITORY', 'VERSION', 'STATUS', 'SOURCES', 'SIGNERS', 'POLICY'] as const;
// A cell wider than this is cut: the table stays readable, -o json and --html carry everything.
const MAX_CELL = 60;

export function auditTable(report: AuditReport): string[] {
  const rows = report.versions.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), ...rows.map(line)];
}

function cells(v: AuditedVersion): string[] {
  const sources = [...new Set(v.signatures.map((s) => s.source))].join(',') || '-';
  const signers =
    [
      ...new Set(
        v.signatures.map((s) =>
          s.valid
            ? (s.signer?.userId ?? s.signer?.fingerprint ?? '?')
            : `${s.error?.code ?? 'INVALID'}${s.signer?.keyId ? ` (key ${s.signer.keyId})` : ''}`,
        ),
      ),
    ].join('; ') || '-';
  const policy = v.policy
    ? v.policy.allowed
      ? 'allowed'
      : `VIOLATION: ${v.policy.reason}`
    : v.error
      ? `${v.error.code}: ${v.error.message}`
      : '-';
  return [v.repository, v.version || '(tags)', v.status, sources, cut(signers), cut(policy, 200)];
}

function cut(text: string, max = MAX_CELL): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The counts in one line, and the verdict. */
export function auditSummaryLine(report: AuditReport): string {
  const s = report.summary;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return (
    `${plural(s.total, 'version')} in ${plural(s.repositories, 'repository').replace(/ys$/, 'ies')}: ` +
    `${s.signed} signed (${s.valid} valid, ${s.invalid} invalid, ${s.unknownKey} unknown key), ${s.unsigned} unsigned, ` +
    `${s.notAChart} not a chart, ${plural(s.errors, 'error')}; ${plural(s.violations, 'policy violation')} — ${report.ok ? 'PASS' : 'FAIL'}`
  );
}
