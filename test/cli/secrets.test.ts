// Secrets never printed (issue 10, part 3): commands deliberately handed
// passwords, passphrases and keys — in CHARTPROV_PASSWORD and
// CHARTPROV_PASSPHRASE, on stdin, with -p, in a credentials file, in a URL,
// as an armored key in CHARTPROV_SIGNING_KEY — and made to fail (wrong
// password, unreachable registry, bad passphrase, a broken file, a registry
// or token service that quotes the request back), all with --debug so stack
// traces and error causes are printed too. Nothing they print may contain a
// secret in any form (as is, URL-encoded, inside a Basic header's base64).
// runCli checks every run against test/peers/secrets.ts; the assertions here
// also prove each command reached the failure it was meant to.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goldens } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { startFaultProxy, type FaultProxy } from '../peers/fault-proxy.js';
import { recordFigure } from '../peers/figures.js';
import { keyFile } from '../peers/paths.js';
import { findSecrets, rememberSecret, SECRETS, secretScanStats } from '../peers/secrets.js';
import { tempDir } from '../peers/tmp.js';

const PASSWORD = SECRETS.leakProbePassword;
const WRONG_PASSWORD = `${PASSWORD}-but-wrong`;
const WRONG_PASSPHRASE = SECRETS.leakProbePassphrase;
rememberSecret('a wrong password typed by the user', WRONG_PASSWORD);

/** A JWT (a bearer token) anywhere in the text: tokens the CLI got are secrets the test cannot know in advance. */
const JWT = /eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/;

let work: string;
let cleanup: () => Promise<void>;
let reg: EmbeddedRegistry;
let proxy: FaultProxy;
let runs = 0;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-secrets-'));
  reg = await startEmbedded({ projects: ['team'] });
  await reg.addUser('prober', { password: PASSWORD, roles: { team: 'developer' } });
  proxy = await startFaultProxy(reg.url);
  // The private key material in the armored secret key files is a secret too: a few of its lines.
  for (const who of ['john', 'pat']) {
    const lines = (await readFile(keyFile(`${who}-sec.asc`), 'utf8')).split('\n').filter((l) => l.length === 64);
    for (const i of [5, 10, 15]) rememberSecret(`a line of ${who}'s armored secret key`, lines[i]);
  }
});

after(async () => {
  await proxy?.close();
  await reg?.stop();
  await cleanup?.();
  recordFigure({
    area: 'secrets',
    item: 'failing commands given secrets in env, stdin, -p, files, URLs and CHARTPROV_SIGNING_KEY, with --debug',
    tried: runs,
    outcome: 'no secret in stdout or stderr (stack traces and causes included)',
    lost: secretScanStats().leaks,
    measures: { secrets: secretScanStats().secrets },
  });
});

/** Runs the CLI with --debug; checks it failed with `code` (or succeeded), printed a stack trace, and no secret. */
async function probe(
  args: string[],
  /** `stack: false` for batch commands (pull, mirror), which report each item's failure without a stack. */
  expect: { code: string | 0; env?: NodeJS.ProcessEnv; input?: string; json?: boolean; stack?: boolean },
): Promise<{ stdout: string; stderr: string }> {
  runs++;
  const r = await runCli([...args, '--debug', ...(expect.json ? ['-o', 'json'] : [])], {
    ...(expect.env ? { env: expect.env } : {}),
    ...(expect.input !== undefined ? { input: expect.input } : {}),
  });
  if (expect.code === 0) {
    assert.equal(r.code, 0, r.stderr);
  } else {
    assert.notEqual(r.code, 0);
    // A failure is `error[CODE]` on stderr, or (-o json, batch commands) a coded error in the JSON on stdout.
    const said = new RegExp(`^error\\[${expect.code}\\]`, 'm').test(r.stderr) || r.stdout.includes(`"code": "${expect.code}"`);
    assert.ok(said, `expected ${expect.code}:\n${r.stdout}\n${r.stderr}`);
    // --debug printed the stack (and causes) of a command that failed as a whole: those are checked too.
    if (expect.stack !== false) assert.match(r.stderr, /^\s+at /m, 'a stack trace was printed');
  }
  assert.deepEqual(findSecrets(r.stdout, r.stderr), []);
  for (const text of [r.stdout, r.stderr])
    assert.ok(!text.includes(PASSWORD) && !text.includes(WRONG_PASSWORD) && !text.includes(WRONG_PASSPHRASE));
  assert.doesNotMatch(`${r.stdout}\n${r.stderr}`, JWT, 'no bearer token');
  return r;
}

const loginArgs = (host: string) => [
  'registry',
  'login',
  host,
  '-u',
  'prober',
  '--plain-http',
  '--registry-config',
  join(work, 'config.json'),
];

describe('registry passwords', () => {
  test('registry login: wrong password on stdin, in CHARTPROV_PASSWORD, and with -p', async () => {
    await probe([...loginArgs(reg.host), '--password-stdin'], { code: 'REGISTRY_CREDENTIALS_REJECTED', input: `${WRONG_PASSWORD}\n` });
    await probe(loginArgs(reg.host), { code: 'REGISTRY_CREDENTIALS_REJECTED', env: { CHARTPROV_PASSWORD: WRONG_PASSWORD } });
    await probe([...loginArgs(reg.host), '-p', WRONG_PASSWORD], { code: 'REGISTRY_CREDENTIALS_REJECTED', json: true });
  });

  test('registry login: unreachable registry, with the right password', async () => {
    await probe([...loginArgs('127.0.0.1:1'), '--password-stdin'], { code: 'REGISTRY_UNREACHABLE', input: `${PASSWORD}\n` });
  });

  test('registry login that succeeds, then a push and a pull with the saved login: nothing echoed', async () => {
    await probe([...loginArgs(reg.host), '--password-stdin'], { code: 0, input: `${PASSWORD}\n` });
    const config = ['--registry-config', join(work, 'config.json'), '--plain-http'];
    await probe(['push', goldens.helm4.chart, `oci://${reg.host}/team`, ...config], { code: 0 });
    await probe(['pull', `oci://${reg.host}/team/hello-world`, '--version', '0.1.0', '-d', join(work, 'pulled'), ...config], { code: 0 });
  });

  test('CHARTPROV_USERNAME/PASSWORD: wrong password on pull, right password to an unreachable registry', async () => {
    const env = (password: string, host: string) => ({
      CHARTPROV_USERNAME: 'prober',
      CHARTPROV_PASSWORD: password,
      CHARTPROV_REGISTRY: host,
    });
    await probe(['pull', `oci://${reg.host}/team/hello-world`, '--version', '0.1.0', '--plain-http', '-d', join(work, 'no')], {
      code: 'REGISTRY_CREDENTIALS_REJECTED',
      env: env(WRONG_PASSWORD, reg.host),
      json: true,
      stack: false,
    });
    await probe(['push', goldens.helm4.chart, 'oci://127.0.0.1:1/team', '--plain-http'], {
      code: 'REGISTRY_UNREACHABLE',
      env: env(PASSWORD, '127.0.0.1:1'),
      stack: false,
    });
  });

  test('credentials in the reference or the registry host are refused without being repeated', async () => {
    await probe(['pull', `oci://prober:${PASSWORD}@${reg.host}/team/hello-world`, '--version', '0.1.0', '--plain-http'], {
      code: 'REFERENCE_INVALID',
    });
    await probe(['registry', 'login', `prober:${PASSWORD}@${reg.host}`, '-u', 'prober', '--password-stdin'], {
      code: 'REFERENCE_INVALID',
      input: `${PASSWORD}\n`,
    });
    await probe(['registry', 'login', `https://prober:${PASSWORD}@${reg.host}/path`, '-u', 'prober', '--password-stdin'], {
      code: 'REFERENCE_INVALID',
      input: `${PASSWORD}\n`,
    });
    await probe(['pull', 'hello-world', '--repo', `http://prober:${PASSWORD}@127.0.0.1:1/charts`], { code: 'USAGE' });
    // A generated password may hold '/': the userinfo still ends at the last '@' before the path.
    const slashed = `Sl/${PASSWORD}/x`;
    rememberSecret('a password with slashes (secrets.test)', slashed);
    await probe(['pull', `oci://prober:${slashed}@${reg.host}/team/hello-world:0.1.0`, '--plain-http'], { code: 'REFERENCE_INVALID' });
    await probe(['registry', 'login', `https://prober:${slashed}@${reg.host}`, '-u', 'prober', '--password-stdin'], {
      code: 'REFERENCE_INVALID',
      input: `${PASSWORD}\n`,
    });
    // --prov-url never sends credentials, so one holding them is refused rather than echoed.
    await probe(
      ['verify', `oci://${reg.host}/team/hello-world:0.1.0`, '--plain-http', '--prov-url', `http://prober:${PASSWORD}@127.0.0.1:1/x.prov`],
      {
        code: 'USAGE',
      },
    );
  });

  test('a credentials file that is not JSON: CREDENTIALS_UNAVAILABLE without quoting it', async () => {
    const file = join(work, 'broken-config.json');
    const auth = Buffer.from(`prober:${PASSWORD}`).toString('base64');
    await writeFile(file, `{"auths": {"${reg.host}": {"auth": "${auth}"}}, "password": "${PASSWORD}" oops`);
    await probe(['versions', `oci://${reg.host}/team/hello-world`, '--plain-http', '--registry-config', file], {
      code: 'CREDENTIALS_UNAVAILABLE',
    });
  });

  test('a chart repository login (--username --password-stdin) to a repository that is down', async () => {
    await probe(
      ['pull', 'hello-world', '--repo', 'http://127.0.0.1:1/charts', '--username', 'prober', '--password-stdin', '-d', join(work, 'no')],
      {
        code: 'REGISTRY_UNREACHABLE',
        input: `${PASSWORD}\n`,
        stack: false,
      },
    );
    await probe(
      ['mirror', 'http://127.0.0.1:1/charts', `oci://${reg.host}/team`, '--username', 'prober', '--password-stdin', '--plain-http'],
      {
        code: 'REGISTRY_UNREACHABLE',
        input: `${PASSWORD}\n`,
      },
    );
  });
});

describe('registries that quote the request back', () => {
  test('a registry answering 500 with the Authorization header in its error page: REGISTRY_ERROR without the token', async () => {
    proxy.clear();
    const rule = proxy.add({
      name: 'echo',
      method: 'GET',
      path: /\/tags\/list/,
      authorized: true,
      fault: { kind: 'echo-authorization', status: 500 },
    });
    const r = await probe(['versions', `oci://${proxy.host}/team/hello-world`, '--plain-http'], {
      code: 'REGISTRY_ERROR',
      env: { CHARTPROV_USERNAME: 'prober', CHARTPROV_PASSWORD: PASSWORD, CHARTPROV_REGISTRY: proxy.host },
    });
    assert.ok(rule.injected >= 1);
    // The page did reach the message, with the credential cut out.
    assert.match(r.stderr, /Authorization: Bearer \*\*\*/);
  });

  test('a token service answering 500 with the Basic header in its page: REGISTRY_ERROR without the password', async () => {
    proxy.clear();
    const rule = proxy.add({ name: 'echo token', path: /^\/service\/token/, fault: { kind: 'echo-authorization', status: 500 } });
    const r = await probe(['versions', `oci://${proxy.host}/team/hello-world`, '--plain-http'], {
      code: 'REGISTRY_ERROR',
      env: { CHARTPROV_USERNAME: 'prober', CHARTPROV_PASSWORD: PASSWORD, CHARTPROV_REGISTRY: proxy.host },
    });
    assert.ok(rule.injected >= 1);
    assert.match(r.stderr, /Authorization: Basic \*\*\*/);
  });

  test('a registry answering a failed upload with the request quoted: nothing of the login in the message', async () => {
    proxy.clear();
    // No single-POST upload here: the blobs go up the ordinary way, and the final PUT is answered with the quote.
    proxy.add({ name: 'no single POST', method: 'POST', path: /\/blobs\/uploads\/\?digest=/, fault: { kind: 'status', status: 405 } });
    const rule = proxy.add({
      name: 'echo on upload',
      method: 'PUT',
      path: /\/blobs\/uploads\//,
      authorized: true,
      fault: { kind: 'echo-authorization', status: 400 },
    });
    const r = await probe(['push', goldens.helm3.chart, `oci://${proxy.host}/team`, '--plain-http'], {
      code: 'REGISTRY_ERROR',
      env: { CHARTPROV_USERNAME: 'prober', CHARTPROV_PASSWORD: PASSWORD, CHARTPROV_REGISTRY: proxy.host },
      stack: false,
    });
    assert.ok(rule.injected >= 1);
    assert.match(r.stderr, /^error\[REGISTRY_ERROR\]: registry refused blob .*Authorization: Bearer \*\*\*/m);
  });
});

describe('key passphrases and keys', () => {
  const chart = () => join(work, 'to-sign.tgz');
  before(async () => {
    await writeFile(chart(), await readFile(goldens.helm4.chart));
  });
  const signArgs = () => ['sign', chart(), '--key', 'Pat Phrase', '--keyring', keyFile('pat-secring.gpg')];

  test('a wrong passphrase in CHARTPROV_PASSPHRASE and on stdin: PASSPHRASE_WRONG', async () => {
    await probe(signArgs(), { code: 'PASSPHRASE_WRONG', env: { CHARTPROV_PASSPHRASE: WRONG_PASSPHRASE } });
    await probe([...signArgs(), '--passphrase-file', '-'], { code: 'PASSPHRASE_WRONG', input: `${WRONG_PASSPHRASE}\n`, json: true });
  });

  test('the right passphrase signs, and is not echoed', async () => {
    await probe(signArgs(), { code: 0, env: { CHARTPROV_PASSPHRASE: SECRETS.patPassphrase } });
  });

  test('an armored secret key in CHARTPROV_SIGNING_KEY: wrong passphrase, and a damaged key', async () => {
    const pat = await readFile(keyFile('pat-sec.asc'), 'utf8');
    await probe(['sign', chart(), '--key', 'Pat Phrase'], {
      code: 'PASSPHRASE_WRONG',
      env: { CHARTPROV_SIGNING_KEY: pat, CHARTPROV_PASSPHRASE: WRONG_PASSPHRASE },
    });
    const john = await readFile(keyFile('john-sec.asc'), 'utf8');
    const lines = john.split('\n');
    const i = lines.findIndex((l) => l.length === 64) + 8;
    lines[i] = `${lines[i]!.slice(0, 20)}!!!!${lines[i]!.slice(24)}`;
    const r = await runCli(['sign', chart(), '--key', 'John', '--debug'], { env: { CHARTPROV_SIGNING_KEY: lines.join('\n') } });
    runs++;
    assert.notEqual(r.code, 0, 'a damaged key does not sign');
    assert.match(r.stderr, /^error\[[A-Z_]+\]/m);
    assert.deepEqual(findSecrets(r.stdout, r.stderr), []);
  });
});
