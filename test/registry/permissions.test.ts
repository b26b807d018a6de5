// File modes of everything secret chartprov writes (issue 10, part 3), made
// by the real commands under a umask of 000, so nothing is private by
// accident of the umask: the credentials `chartprov registry login` saves
// (0600, in folders it creates 0700), and a registry data folder after a real
// `chartprov serve` run with a project, a user, a robot, logins, tokens and
// a push — accounts, password hashes, the token signing key, blobs,
// manifests, tags, upload areas: folders 0700, files 0600.
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goldens } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { recordFigure } from '../peers/figures.js';
import { rememberSecret, SECRETS } from '../peers/secrets.js';
import { killServeProcesses, startServeProcess, type ServeProcess } from '../peers/serve-process.js';
import { tempDir } from '../peers/tmp.js';

const DEV_PASSWORD = 'Dev-Perm-Passw0rd-3';
rememberSecret('the dev user of permissions.test.ts', DEV_PASSWORD);

let work: string;
let cleanup: () => Promise<void>;
let umask: number;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-perms-'));
  // Children inherit it: every mode below is what chartprov sets, not what the umask leaves.
  umask = process.umask(0o000);
});
after(async () => {
  process.umask(umask);
  killServeProcesses();
  await cleanup?.();
});

/** Every path under `root` whose mode is not 0700 (folders) or 0600 (files), as `path mode`. */
async function loose(root: string, opts: { includeRoot?: boolean } = {}): Promise<{ checked: number; wrong: string[] }> {
  const wrong: string[] = [];
  const paths = [...(opts.includeRoot ? [''] : []), ...(await readdir(root, { recursive: true }))];
  for (const p of paths) {
    const full = join(root, p);
    const st = await stat(full);
    const want = st.isDirectory() ? 0o700 : 0o600;
    if ((st.mode & 0o777) !== want) wrong.push(`${relative(root, full) || '.'} ${(st.mode & 0o777).toString(8)}`);
  }
  return { checked: paths.length, wrong };
}

describe('credentials written by chartprov registry login', () => {
  test('config.json 0600, and the folders it creates 0700, under umask 000', async () => {
    const home = join(work, 'login-home');
    await mkdir(home);
    const server = await startServe(join(work, 'login-data'));
    try {
      const r = await runCli(['registry', 'login', server.host, '-u', 'admin', '--password-stdin', '--plain-http'], {
        env: { HOME: home, XDG_CONFIG_HOME: '', HELM_REGISTRY_CONFIG: '', HELM_CONFIG_HOME: '' },
        input: `${SECRETS.embeddedAdmin}\n`,
      });
      assert.equal(r.code, 0, r.stderr);
      const made = join(home, '.config');
      const { checked, wrong } = await loose(made, { includeRoot: true });
      assert.deepEqual(wrong, [], 'modes under ~/.config');
      assert.ok(checked >= 4, 'helm/registry/config.json and its folders');
      recordFigure({
        area: 'secrets',
        item: 'chartprov registry login under umask 000: ~/.config/helm/registry/config.json',
        tried: checked,
        outcome: 'folders 0700, file 0600',
        lost: wrong.length,
      });
    } finally {
      await server.stop();
    }
  });
});

describe('the data folder of chartprov serve after real use', () => {
  test('accounts, robot, token key, blobs, manifests, tags: folders 0700, files 0600', async () => {
    const data = join(work, 'data');
    const server = await startServe(data);
    const serve = (args: string[], input?: string) => runCli(['serve', ...args, '--data', data], input === undefined ? {} : { input });
    try {
      assert.equal((await serve(['project', 'create', 'charts'])).code, 0);
      const user = await serve(['user', 'add', 'dev', '--password-stdin'], `${DEV_PASSWORD}\n`);
      assert.equal(user.code, 0, user.stderr);
      assert.equal((await serve(['project', 'member', 'charts', 'dev', 'developer'])).code, 0);
      const robot = await serve(['robot', 'create', 'ci', '--project', 'charts:pull,push', '-o', 'json']);
      assert.equal(robot.code, 0, robot.stderr);
      const secret = (JSON.parse(robot.stdout) as { secret: string }).secret;
      rememberSecret('the robot secret of permissions.test.ts', secret);
      const config = join(work, 'registry-config.json');
      const login = await runCli(
        ['registry', 'login', server.host, '-u', 'dev', '--password-stdin', '--plain-http', '--registry-config', config],
        {
          input: `${DEV_PASSWORD}\n`,
        },
      );
      assert.equal(login.code, 0, login.stderr);
      const push = await runCli(['push', goldens.helm4.chart, `oci://${server.host}/charts`, '--plain-http', '--registry-config', config]);
      assert.equal(push.code, 0, push.stderr);
      const pull = await runCli(
        ['pull', `oci://${server.host}/charts/hello-world`, '--version', '0.1.0', '--plain-http', '-d', join(work, 'pulled')],
        {
          env: { CHARTPROV_USERNAME: 'robot$ci', CHARTPROV_PASSWORD: secret },
        },
      );
      assert.equal(pull.code, 0, pull.stderr);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const { checked, wrong } = await loose(data, { includeRoot: true });
    assert.deepEqual(wrong, [], 'modes in the data folder');
    const names = await readdir(data, { recursive: true });
    for (const expected of [join('auth', 'token.key'), 'blobs', 'repositories'])
      assert.ok(names.includes(expected), `${expected} is there (checked)`);
    recordFigure({
      area: 'secrets',
      item: 'chartprov serve data folder after project, user, robot, logins, push, pull (umask 000)',
      tried: checked,
      outcome: 'every folder 0700, every file 0600',
      lost: wrong.length,
    });
  });

  test('a data folder the operator made beforehand (0755) is made private on start', async () => {
    const data = join(work, 'premade');
    await mkdir(data);
    await chmod(data, 0o755);
    const server = await startServe(data);
    await server.stop();
    assert.equal((await stat(data)).mode & 0o777, 0o700);
  });
});

/** `chartprov serve --data DIR` on a free port, with the suite's admin password; resolves at its ready line. */
function startServe(data: string): Promise<ServeProcess> {
  const env = { ...process.env, CHARTPROV_ADMIN_PASSWORD: SECRETS.embeddedAdmin, HOME: join(work, 'serve-home') };
  return startServeProcess(['--addr', '127.0.0.1:0', '--data', data], env);
}
