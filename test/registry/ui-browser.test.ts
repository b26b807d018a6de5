// The web UI in a real browser (headless Chromium through playwright-core):
// log in, browse to a signed chart and see it valid with its signer, see a
// tampered provenance invalid, see a chart whose Chart.yaml is an XSS
// payload shown as text with nothing run, create a project through the admin
// form. Screenshots go to test-artifacts/ui/ for a person to look at.
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { attachProvenance } from '../../src/flows/attach-provenance.js';
import { packageChartFlow } from '../../src/flows/package-chart.js';
import { pushCharts } from '../../src/flows/push-charts.js';
import { goldens, helloWorldSource } from '../peers/charts.js';
import { launchChromium } from '../peers/chromium.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { keyFile, repoRoot } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts', 'ui');
const XSS = `<script>globalThis.pwned = 1</script><img src=x onerror="globalThis.pwned = 2; alert('xss')">`;

let reg: EmbeddedRegistry;
let browser: Browser;
let work: string;
let cleanup: () => Promise<void>;
const dialogs: string[] = [];
const pageErrors: string[] = [];

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-ui-browser-'));
  await rm(ARTIFACTS, { recursive: true, force: true });
  await mkdir(ARTIFACTS, { recursive: true });
  reg = await startEmbedded({ projects: ['charts'], ui: { keyring: keyFile('all-pubring.gpg') } });
  const connection = { plainHttp: true, clientOptions: { credential: { username: reg.admin.username, password: reg.admin.password } } };
  const push = async (chart: string) => {
    const r = await pushCharts({ charts: [chart], destination: `oci://${reg.host}/charts`, ...connection });
    assert.equal(r.failed, 0, JSON.stringify(r.results));
  };
  // Signed by John, with the .prov as a layer of the chart's manifest.
  await push(goldens.helm4.chart);

  // 0.2.0, signed by John, then one line of the signed text changed: attached as a referrer.
  const src = await helloWorldSource(work);
  const signed = await packageChartFlow({
    chartDir: src,
    destination: join(work, 'tampered'),
    version: '0.2.0',
    sign: { keyName: 'John', keyrings: [keyFile('john-secring.gpg')] },
  });
  const provPath = signed.provenance!.provPath;
  const tampered = (await readFile(provPath, 'utf8')).replace(/^description: .*$/m, 'description: not what was signed');
  await rm(provPath);
  await push(signed.path);
  await attachProvenance({ reference: `oci://${reg.host}/charts/hello-world:0.2.0`, provenance: tampered, ...connection });

  // A chart whose Chart.yaml description is markup.
  const xssDir = join(work, 'xss-demo');
  await mkdir(join(work, 'x'));
  await rename(await helloWorldSource(join(work, 'x')), xssDir);
  const yaml = (await readFile(join(xssDir, 'Chart.yaml'), 'utf8'))
    .replace(/^name: .*$/m, 'name: xss-demo')
    .replace(/^description: .*$/m, `description: ${JSON.stringify(XSS)}`);
  await writeFile(join(xssDir, 'Chart.yaml'), yaml);
  await push((await packageChartFlow({ chartDir: xssDir, destination: join(work, 'xss-out'), version: '1.0.0' })).path);

  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await reg?.stop();
  await cleanup?.();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

test('browse, verify, stay safe from chart text, administer', { timeout: 180_000 }, async () => {
  const page = await newPage();
  await page.goto(`${reg.url}/`);
  assert.match(page.url(), /\/ui\/login$/);
  await shot(page, '01-login');
  await page.fill('input[name=username]', reg.admin.username);
  await page.fill('input[name=password]', reg.admin.password);
  await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
  assert.equal(await page.textContent('[data-testid=user]'), 'admin');
  await shot(page, '02-projects');

  // Projects → repository → version, by the links a person would click.
  await Promise.all([page.waitForURL(/\/ui\/projects\/charts$/), page.click('a[href="/ui/projects/charts"]')]);
  await Promise.all([page.waitForURL(/repositories\/hello-world$/), page.click('a[href="/ui/projects/charts/repositories/hello-world"]')]);
  await shot(page, '03-versions');
  await Promise.all([page.waitForURL(/versions\/0\.1\.0$/), page.click('a[href$="/versions/0.1.0"]')]);
  const valid = page.locator('[data-testid=signatures] tr[data-status=valid]');
  assert.equal(await valid.count(), 1);
  assert.ok(await valid.isVisible());
  assert.equal((await valid.locator('.status').textContent())?.trim(), 'valid');
  assert.match((await valid.locator('[data-testid=signer]').textContent()) ?? '', /John The Signer <john@example\.com>/);
  assert.match(
    (await page.textContent('[data-testid=pull-command]')) ?? '',
    /^helm pull oci:\/\/127\.0\.0\.1:\d+\/charts\/hello-world --version 0\.1\.0 --verify/,
  );
  assert.match(
    (await page.textContent('[data-testid=verify-command]')) ?? '',
    /^chartprov verify oci:\/\/127\.0\.0\.1:\d+\/charts\/hello-world:0\.1\.0/,
  );
  await shot(page, '04-signed-valid');

  await page.goto(`${reg.url}/ui/projects/charts/repositories/hello-world/versions/0.2.0`);
  const invalid = page.locator('[data-testid=signatures] tr[data-status=invalid]');
  assert.equal(await invalid.count(), 1);
  assert.equal((await invalid.locator('.status').textContent())?.trim(), 'invalid');
  assert.match((await invalid.textContent()) ?? '', /SIGNATURE_INVALID/);
  assert.equal(await page.locator('[data-testid=signatures] tr[data-status=valid]').count(), 0);
  await shot(page, '05-tampered-invalid');

  await page.goto(`${reg.url}/ui/projects/charts/repositories/xss-demo`);
  assert.ok(await page.getByText(XSS, { exact: true }).isVisible(), 'the description is shown as text');
  await page.goto(`${reg.url}/ui/projects/charts/repositories/xss-demo/versions/1.0.0`);
  // Helm's packaging re-marshals Chart.yaml, so the quoting may differ; the markup is there as text.
  const chartYaml = (await page.textContent('[data-testid=chart-yaml]')) ?? '';
  assert.ok(chartYaml.includes('<script>globalThis.pwned = 1</script><img src=x onerror='), chartYaml);
  assert.equal(await page.locator('img[src=x]').count(), 0, 'no element was made from the payload');
  assert.equal(await page.locator('main script').count(), 0);
  assert.equal(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned), undefined, 'no script ran');
  await shot(page, '06-xss-as-text');

  await Promise.all([page.waitForURL(/\/ui\/admin$/), page.click('a[href="/ui/admin"]')]);
  await page.fill('[data-testid=create-project] input[name=name]', 'made-in-browser');
  await page.check('[data-testid=create-project] input[name=public]');
  await Promise.all([page.waitForURL(/\/ui\/projects\/made-in-browser$/), page.click('[data-testid=create-project] button[type=submit]')]);
  assert.match((await page.textContent('.flash')) ?? '', /Project made-in-browser created/);
  const project = reg.registry.access!.accounts.getProject('made-in-browser');
  assert.equal(project?.public, true);
  assert.deepEqual(project?.members, [{ user: 'admin', role: 'projectAdmin' }]);
  await shot(page, '07-project-created');

  await Promise.all([page.waitForURL(/\/ui\/login$/), page.click('header form button[type=submit]')]);
  await page.goto(`${reg.url}/ui/admin`);
  assert.match(page.url(), /\/ui\/login$/, 'logged out');

  assert.deepEqual(dialogs, [], 'no dialog opened');
  assert.deepEqual(pageErrors, [], 'no script error');
  await page.close();
});
