/** A repository's chart versions, and one version: facts, Chart.yaml, signatures and the commands to pull and verify it. */
import type { ChartVersionDetail, ChartVersionSummary } from '../catalog.js';
import type { ChartYaml } from '../chart-yaml.js';
import { html, uiPath, type SafeHtml } from '../html.js';
import type { StoredSignature } from '../signatures.js';
import { formatSize, link, page, type Viewer } from './layout.js';

export interface RepositoryRef {
  project: string;
  /** Full name, `project/…`. */
  repository: string;
  /** `host:port` as clients write it in oci:// references. */
  host: string;
  /** The registry speaks plain HTTP: clients need --plain-http. */
  plainHttp: boolean;
}

function rest(ref: RepositoryRef): string {
  return ref.repository.slice(ref.project.length + 1);
}

function crumbs(ref: RepositoryRef, last: boolean): SafeHtml {
  return html`<div class="crumbs">
    <a href="/ui/">Projects</a> / ${link(uiPath('projects', ref.project), ref.project)} /
    ${last ? link(uiPath('projects', ref.project, 'repositories', rest(ref)), rest(ref)) : ''}
  </div>`;
}

function versionPath(ref: RepositoryRef, v: ChartVersionSummary): string {
  return uiPath('projects', ref.project, 'repositories', rest(ref), 'versions', v.tags[0] ?? v.digest);
}

export function repositoryPage(viewer: Viewer, ref: RepositoryRef, versions: ChartVersionSummary[]): SafeHtml {
  return page({
    title: ref.repository,
    viewer,
    body: html`${crumbs(ref, false)}
      <h1>${ref.repository}</h1>
      ${
        versions.length === 0
          ? html`<p class="muted">No chart in this repository.</p>`
          : html`<table data-testid="versions">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Description</th>
                  <th>Digest</th>
                  <th>Size</th>
                  <th>Created</th>
                  <th>Signatures</th>
                </tr>
              </thead>
              <tbody>
                ${versions.map(
                  (v) =>
                    html`<tr>
                      <td>${link(versionPath(ref, v), v.version ?? v.tags[0] ?? '(untagged)')}</td>
                      <td>${v.description ?? ''}</td>
                      <td class="mono">${v.digest.slice(0, 19)}…</td>
                      <td>${formatSize(v.size)}</td>
                      <td>${v.created ?? '—'}</td>
                      <td>${v.signatures}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}

const SOURCE_LABEL: Record<StoredSignature['source'], string> = {
  layer: 'provenance layer',
  referrer: 'attached (referrer)',
  'fallback-tag': 'attached (fallback tag)',
};

const STATUS_LABEL: Record<StoredSignature['status'], string> = { valid: 'valid', invalid: 'invalid', 'unknown-key': 'unknown key' };

export interface VersionPageData {
  ref: RepositoryRef;
  version: ChartVersionDetail;
  chartYaml: ChartYaml;
  signatures: StoredSignature[];
  /** Signatures found past the ones verified for this view. */
  unchecked?: number;
  keyring: boolean;
}

export function versionPage(viewer: Viewer, d: VersionPageData): SafeHtml {
  const v = d.version;
  const reference = `oci://${d.ref.host}/${d.ref.repository}`;
  const tag = v.tags[0];
  const version = v.version ?? tag;
  const plain = d.ref.plainHttp ? ' --plain-http' : '';
  const pull = version ? `helm pull ${reference} --version ${version} --verify${plain}` : undefined;
  const verify = `chartprov verify ${reference}${tag ? `:${tag}` : `@${v.digest}`}${plain}`;
  return page({
    title: `${d.ref.repository} ${version ?? v.digest}`,
    viewer,
    body: html`${crumbs(d.ref, true)}
      <h1>${d.ref.repository} <span data-testid="version">${version ?? ''}</span></h1>
      <dl class="facts">
        <dt>Digest</dt>
        <dd class="mono" data-testid="digest">${v.digest}</dd>
        <dt>Tags</dt>
        <dd>${v.tags.join(', ') || '(untagged)'}</dd>
        <dt>Size</dt>
        <dd>${formatSize(v.size)} (${v.size} bytes)</dd>
        <dt>Created</dt>
        <dd>${v.created ?? '— (not recorded in the manifest)'}</dd>
        <dt>Chart archive</dt>
        <dd class="mono">${v.manifest.chart.digest}</dd>
      </dl>
      <h2>Signatures</h2>
      ${d.keyring ? '' : html`<p class="muted" data-testid="no-keyring">No keyring configured: signatures cannot be verified here (chartprov serve --keyring FILE).</p>`}
      ${d.signatures.length === 0 ? html`<p data-testid="unsigned">This chart has no signature.</p>` : signatureTable(d.signatures)}
      ${
        d.unchecked
          ? html`<p class="muted" data-testid="unchecked">
              ${d.unchecked} more signature${d.unchecked === 1 ? '' : 's'} not checked (at most ${d.signatures.length} are checked per page;
              <code>chartprov discover</code> lists them all).
            </p>`
          : ''
      }
      <h2>Pull and verify</h2>
      ${pull ? html`<pre data-testid="pull-command">${pull}</pre>` : ''}
      <pre data-testid="verify-command">${verify}</pre>
      <h2>Chart.yaml</h2>
      ${d.chartYaml.from === 'config' ? html`<p class="muted">From the chart's config (the archive could not be read here).</p>` : ''}
      <pre data-testid="chart-yaml">${d.chartYaml.text}</pre>`,
  });
}

function signatureTable(signatures: StoredSignature[]): SafeHtml {
  return html`<table data-testid="signatures">
    <thead>
      <tr>
        <th>Status</th>
        <th>Signer</th>
        <th>Key fingerprint</th>
        <th>Key id</th>
        <th>Signed</th>
        <th>Where</th>
      </tr>
    </thead>
    <tbody>
      ${signatures.map(
        (s) =>
          html`<tr data-status="${s.status}">
            <td>
              <span class="status status-${s.status}">${STATUS_LABEL[s.status]}</span>
              ${s.message ? html`<div class="muted">${s.reason}: ${s.message}</div>` : ''}
            </td>
            <td data-testid="signer">${s.signer?.userId ?? '—'}</td>
            <td class="mono">${s.signer?.fingerprint ?? '—'}</td>
            <td class="mono">${s.signer?.keyId ?? '—'}</td>
            <td>${s.signer?.signedAt ?? '—'}</td>
            <td>
              ${SOURCE_LABEL[s.source]}
              <div class="mono muted">${s.location.slice(0, 19)}…</div>
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
