/**
 * The audit as one self-contained HTML page (`chartprov audit --html FILE`):
 * inline CSS, a few lines of script that sort the table by the column whose
 * header is clicked, the counts on top. Everything that came from the
 * registry or a key (repository names, tags, user ids, error messages) goes
 * through the `html` tag, which escapes it: a user id of `<script>` is text.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FileNotFoundError, FileWriteError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { html, raw, type SafeHtml } from '../registry/ui/html.js';
import type { AuditReport } from './audit.js';
import type { AuditedVersion, AuditSignature } from './audit-version.js';

const CSS = `
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; color: #fff; }
.verdict.pass { background: var(--ok); } .verdict.fail { background: var(--bad); }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0 20px; padding: 0; list-style: none; }
.summary li { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 110px; }
.summary .n { display: block; font-size: 22px; font-weight: 700; }
.summary .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.summary .bad .n { color: var(--bad); } .summary .good .n { color: var(--ok); } .summary .warn .n { color: var(--warn); }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; cursor: pointer; user-select: none; white-space: nowrap; position: sticky; top: 0; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.status { font-weight: 600; }
.status-valid { color: var(--ok); } .status-invalid, .status-error { color: var(--bad); }
.status-unknown-key, .status-unsigned { color: var(--warn); } .status-not-a-chart { color: var(--muted); }
.allowed { color: var(--ok); } .violation { color: var(--bad); font-weight: 600; }
.sig { margin: 0 0 4px; } .sig:last-child { margin: 0; } .why { color: var(--muted); font-size: 12px; }
.notes { color: var(--muted); font-size: 12px; }
`;

// Sorts by the clicked column: numbers and versions compare numerically (localeCompare's numeric option).
const SCRIPT = `
(function () {
  var table = document.getElementById('versions');
  if (!table) return;
  var headers = table.tHead.rows[0].cells;
  function key(row, i) { var c = row.cells[i]; return c.getAttribute('data-sort') || c.textContent.trim(); }
  Array.prototype.forEach.call(headers, function (th, i) {
    th.addEventListener('click', function () {
      var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      Array.prototype.forEach.call(headers, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir);
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var r = key(a, i).localeCompare(key(b, i), undefined, { numeric: true, sensitivity: 'base' });
        return dir === 'ascending' ? r : -r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
`;

const COUNTS: Array<{ key: keyof AuditReport['summary']; label: string; tone?: 'good' | 'bad' | 'warn' }> = [
  { key: 'total', label: 'total versions' },
  { key: 'signed', label: 'signed' },
  { key: 'unsigned', label: 'unsigned', tone: 'warn' },
  { key: 'valid', label: 'valid', tone: 'good' },
  { key: 'invalid', label: 'invalid', tone: 'bad' },
  { key: 'unknownKey', label: 'unknown key', tone: 'warn' },
  { key: 'violations', label: 'policy violations', tone: 'bad' },
  { key: 'errors', label: 'errors', tone: 'bad' },
  { key: 'notAChart', label: 'not a chart' },
];

/** The report as a complete HTML document. */
export function renderAuditHtml(report: AuditReport): string {
  const s = report.summary;
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>chartprov audit — ${report.target}</title>
        <style>
          ${raw(CSS)}
        </style>
      </head>
      <body>
        <h1>chartprov audit — ${report.target}</h1>
        <p class="meta">
          <span class="verdict ${report.ok ? 'pass' : 'fail'}" data-verdict="${report.ok ? 'pass' : 'fail'}"
            >${report.ok ? 'PASS' : 'FAIL'}</span
          >
          ${s.repositories} repositories (${report.listing}), policy: ${report.policy}, generated ${report.generatedAt} in
          ${(report.durationMs / 1000).toFixed(1)} s
        </p>
        <ul class="summary">
          ${COUNTS.map((c) => html`<li class="${c.tone ?? ''}" data-count="${c.key}"><span class="n">${s[c.key]}</span><span class="label">${c.label}</span></li> `)}
        </ul>
        ${report.notes.length ? html`<p class="notes">${report.notes.join('; ')}</p>` : ''}
        <table id="versions">
          <thead>
            <tr>
              <th>Repository</th>
              <th>Version</th>
              <th>Status</th>
              <th>Signatures</th>
              <th>Signers</th>
              <th>Policy</th>
              <th>Digest</th>
            </tr>
          </thead>
          <tbody>
            ${report.versions.map(row)}
          </tbody>
        </table>
        <script>
          ${raw(SCRIPT)};
        </script>
      </body>
    </html> `;
  return page.value;
}

/**
 * Fails before the audit, not after it, when the page could not be written:
 * its folder missing (FILE_NOT_FOUND), not a folder or not writable, or the
 * path itself a folder (FILE_WRITE_FAILED).
 */
export async function checkAuditHtmlDestination(path: string): Promise<void> {
  const folder = dirname(resolve(path));
  const hint = 'create the folder first or choose another path for --html';
  let info;
  try {
    info = await stat(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileNotFoundError(folder, 'destination folder', { hint, cause: err });
    throw new FileWriteError(path, {
      hint: `cannot reach the folder ${folder} (${code ?? 'error'}): choose another path for --html`,
      cause: err,
    });
  }
  if (!info.isDirectory()) throw new FileWriteError(path, { hint: `${folder} is not a folder: ${hint}` });
  try {
    await access(folder, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new FileWriteError(path, { hint: `the folder ${folder} is not writable: choose another path for --html`, cause: err });
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new FileWriteError(path, { hint: `${path} is a folder: give a file name for --html` });
}

/** Writes the page atomically (temp file, then rename): a reader never sees half a report. */
export async function writeAuditHtml(report: AuditReport, path: string): Promise<void> {
  await writeFileAtomic(path, renderAuditHtml(report));
}

function row(v: AuditedVersion): SafeHtml {
  const sources = [...new Set(v.signatures.map((g) => g.source))].join(', ');
  const policy = v.policy
    ? html`<span class="${v.policy.allowed ? 'allowed' : 'violation'}">${v.policy.allowed ? 'allowed' : 'violation'}</span>
        <div class="why">${v.policy.reason}</div>`
    : v.error
      ? html`<div class="why">${v.error.code}: ${v.error.message}</div>`
      : '';
  const policySort = v.policy ? (v.policy.allowed ? 'allowed' : 'violation') : v.status;
  return html`<tr data-status="${v.status}">
    <td class="mono">${v.repository}</td>
    <td class="mono">${v.version || '—'}</td>
    <td class="status status-${v.status}">${v.status}</td>
    <td data-sort="${sources}">${v.signatures.length ? v.signatures.map(signature) : html`<span class="why">none</span>`}</td>
    <td>${[...new Set(v.signatures.map(signerName))].join(', ')}</td>
    <td data-sort="${policySort}">${policy}</td>
    <td class="mono" title="${v.digest ?? ''}">${v.digest ? `${v.digest.slice(0, 19)}…` : ''}</td>
  </tr> `;
}

function signature(g: AuditSignature): SafeHtml {
  const state = g.valid ? 'valid' : (g.error?.code ?? 'invalid');
  return html`<div class="sig">
    <span class="${g.valid ? 'allowed' : 'violation'}">${g.source}</span> <span class="mono">${state}</span>${
      g.error ? html`<div class="why">${g.error.message}</div>` : ''
    }${g.policyReason && g.policyReason !== 'counted' && g.valid ? html`<div class="why">${g.policyReason}</div>` : ''}
  </div>`;
}

function signerName(g: AuditSignature): string {
  const who = g.signer?.userId ?? (g.signer?.keyId ? `key ${g.signer.keyId}` : 'unknown');
  const fp = g.signer?.fingerprint ? ` (${g.signer.fingerprint.slice(-16)})` : '';
  return `${who}${fp}`;
}
