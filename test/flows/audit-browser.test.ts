// The audit's HTML report in a real browser (headless Chromium through
// playwright-core): the counts on top are the report's, a signer whose user
// id is markup shows as text with nothing run, and clicking a column header
// sorts the table (again: the other way). Screenshots go to
// test-artifacts/audit/ for a person to look at.
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { AuditReport } from '../../src/flows/audit.js';
import { launchChromium } from '../peers/chromium.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { keyFile, repoRoot } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';
import { makeAuditCharts, populate, type AuditCharts } from './audit-fixture.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts', 'audit');

let reg: EmbeddedRegistry;
let browser: Browser;
let work: string;
let cleanup: () => Promise<void>;
let charts: AuditCharts;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-audit-browser-'));
  await rm(ARTIFACTS, { recursive: true, force: true });
  await mkdir(ARTIFACTS, { recursive: true });
  charts = await makeAuditCharts(work);
  reg = await startEmbedded({ projects: ['charts'] });
  await populate(reg.host, charts, { plainHttp: true, clientOptions: { credential: reg.admin } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await reg?.stop();
  await cleanup?.();
});

const columnTexts = (page: Page, column: number) =>
  page.$$eval(`#versions tbody tr td:nth-child(${column})`, (cells) => cells.map((c) => (c.textContent ?? '').trim()));

test('the HTML report: counts, escaped signer names, sorting', { timeout: 180_000 }, async () => {
  const file = join(work, 'report.html');
  // Eve's key is given: her signature verifies, and her user id (markup) is shown.
  const keyrings = [keyFile('john-pubring.gpg'), keyFile('jane-pubring.gpg'), charts.eve.pubring].flatMap((k) => ['--keyring', k]);
  const env = { CHARTPROV_USERNAME: reg.admin.username, CHARTPROV_PASSWORD: reg.admin.password, CHARTPROV_REGISTRY: reg.host };
  const run = await runCli(['audit', `oci://${reg.host}/charts`, ...keyrings, '--plain-http', '--html', file, '-o', 'json'], { env });
  assert.equal(run.code, 1, run.stderr);
  const report = JSON.parse(run.stdout) as AuditReport;

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);

  const shown = async (key: string) => Number(await page.textContent(`[data-count="${key}"] .n`));
  for (const key of ['total', 'signed', 'unsigned', 'valid', 'invalid', 'unknownKey', 'violations', 'errors', 'notAChart'] as const)
    assert.equal(await shown(key), report.summary[key], key);
  assert.deepEqual(
    {
      total: report.summary.total,
      valid: report.summary.valid,
      unknownKey: report.summary.unknownKey,
      violations: report.summary.violations,
    },
    { total: 8, valid: 5, unknownKey: 0, violations: 2 },
  );
  assert.equal(await page.getAttribute('[data-verdict]', 'data-verdict'), 'fail');

  // The hostile user id: text in the signers column, no element made of it, no script run.
  const signers = await columnTexts(page, 5);
  assert.ok(
    signers.some((s) => s.includes(charts.eve.userId)),
    signers.join('\n'),
  );
  assert.equal(await page.locator('#versions img').count(), 0);
  assert.equal(await page.locator('body script').count(), 1, 'only the sorting script');
  assert.equal(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned), undefined);
  await page.screenshot({ path: join(ARTIFACTS, '01-report.png'), fullPage: true });

  // Sorting: by version (numeric), then by status both ways.
  await page.click('#versions th:nth-child(2)');
  const versions = await columnTexts(page, 2);
  assert.deepEqual(
    versions,
    [...versions].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })),
  );
  assert.equal(await page.getAttribute('#versions th:nth-child(2)', 'aria-sort'), 'ascending');
  await page.click('#versions th:nth-child(3)');
  const up = await columnTexts(page, 3);
  assert.deepEqual(
    up,
    [...up].sort((a, b) => a.localeCompare(b)),
  );
  await page.click('#versions th:nth-child(3)');
  const down = await columnTexts(page, 3);
  assert.deepEqual(down, [...up].reverse());
  assert.equal(down[0], 'valid');
  assert.equal(await page.getAttribute('#versions th:nth-child(3)', 'aria-sort'), 'descending');
  await page.screenshot({ path: join(ARTIFACTS, '02-sorted-by-status.png'), fullPage: true });

  assert.deepEqual(dialogs, [], 'no dialog opened');
  assert.deepEqual(errors, [], 'no script error');
  await page.close();
});
