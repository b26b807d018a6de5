// `chartprov serve` as an operator runs it: a real child process on port 0,
// its generated admin password shown once, accounts changed from other
// processes while it runs, pushes and logins against it, SIGTERM, gc.
import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { goldens } from '../peers/charts.js';
import { onTerminal, runCli } from '../peers/cli.js';
import { killServeProcesses, startServeProcess, type ServeProcess } from '../peers/serve-process.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let home: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-serve-'));
  home = join(work, 'home');
  await mkdir(home);
});
after(async () => {
  killServeProcesses();
  await cleanup?.();
});

type Server = ServeProcess;

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.data'),
    ...extra,
  };
  if (!extra.CHARTPROV_ADMIN_PASSWORD) delete e.CHARTPROV_ADMIN_PASSWORD;
  return e;
};

/** Starts `chartprov serve ARGS` with this file's HOME and resolves once its ready line or event names the URL. */
function startServe(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Server> {
  return startServeProcess(args, env(extraEnv));
}

/** Polls until `check` holds: a child's log line may arrive after the response it logs. */
async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

async function token(
  url: string,
  user: string,
  password: string,
  scope: string,
): Promise<{ status: number; access?: unknown; expiresIn?: number }> {
  const res = await fetch(`${url}/service/token?service=chartprov-registry&scope=${encodeURIComponent(scope)}`, {
    headers: basic(user, password),
  });
  if (res.status !== 200) return { status: res.status };
  const body = (await res.json()) as { token: string; expires_in: number };
  const claims = JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString('utf8')) as { access: unknown };
  return { status: 200, access: claims.access, expiresIn: body.expires_in };
}

const serveCli = (args: string[], input?: string) => runCli(['serve', ...args], { env: env(), ...(input !== undefined ? { input } : {}) });

describe('chartprov serve', () => {
  let data: string;
  let adminPassword: string;
  before(() => {
    data = join(work, 'data');
  });

  it('first start: data folder 0700, admin password generated, shown once, and it logs in; SIGTERM exits 0', async () => {
    const server = await startServe(['--addr', '127.0.0.1:0', '--data', data]);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(server.url, /:0$/, 'the actual port, not 0');
    assert.equal((await stat(data)).mode & 0o777, 0o700);
    const shown = /password: (\S+)/.exec(server.stderr());
    assert.ok(shown, server.stderr());
    adminPassword = shown[1]!;
    assert.match(server.stderr(), /ONLY THIS ONCE/);
    assert.ok(!server.stdout().includes(adminPassword), 'not on stdout');

    const ok = await token(server.url, 'admin', adminPassword, 'registry:catalog:*');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.access, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.equal((await token(server.url, 'admin', 'Wrong-passw0rd', 'registry:catalog:*')).status, 401);

    assert.equal(await server.stop('SIGTERM'), 0);
    assert.match(server.stderr(), /^\S+ GET \/service\/token 200 [\d.]+ms$/m, 'one line per request');
    assert.equal(server.stderr().split(adminPassword).length - 1, 1, 'the password appears exactly once');
    await assert.rejects(stat(join(data, '.lock')), { code: 'ENOENT' }, 'the data lock is released');
  });

  it('a weak --admin-password-file is refused before anything starts, without echoing it', async () => {
    const file = join(work, 'weak-password');
    await writeFile(file, 'weakling\n');
    const r = await serveCli(['--addr', '127.0.0.1:0', '--data', join(work, 'never'), '--admin-password-file', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[PASSWORD_POLICY\]: the admin password from --admin-password-file does not meet the policy/m);
    assert.ok(!r.stderr.includes('weakling') && !r.stdout.includes('weakling'));
    await assert.rejects(stat(join(work, 'never')), { code: 'ENOENT' });
  });

  it('config files: unknown keys, wrong types and bad values name the key', async () => {
    const cases: Array<[string, RegExp]> = [
      ['tls:\n  certfile: x.pem\n', /unknown setting tls\.certfile in .*bad-0\.yaml/],
      ['addr: 5000\n', /addr in .*: must be a non-empty string, not number 5000/],
      ['limits:\n  max_blob_size: 12XB\n', /limits\.max_blob_size in .*: "12XB" is not a size/],
      ['log:\n  requests: sometimes\n', /log\.requests in .*: must be true or false/],
      ['auth: [1, 2]\n', /auth in .*: must be a mapping/],
      ['addr: "127.0.0.1:5000"\naddr: ":5000"\n', /not valid YAML \(line 2\)/],
    ];
    for (const [i, [text, expected]] of cases.entries()) {
      const file = join(work, `bad-${i}.yaml`);
      await writeFile(file, text);
      const r = await serveCli(['--config', file]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^error\[SERVE_CONFIG_INVALID\]/m);
      assert.match(r.stderr, expected);
    }
    const tls = await serveCli(['--addr', '127.0.0.1:0', '--tls-cert', 'x.pem']);
    assert.match(tls.stderr, /^error\[SERVE_CONFIG_INVALID\]: TLS needs both/m);
  });

  describe('with the server running again (config file, JSON lines)', () => {
    let server: Server;
    let oci: (path: string) => string;
    before(async () => {
      // The file's addr loses to --addr; its relative data path is taken from the file's folder.
      const config = join(work, 'serve.yaml');
      await writeFile(
        config,
        'addr: 127.0.0.1:1\ndata: data\nauth:\n  token_ttl: 10m\nlimits:\n  max_blob_size: 64MiB\nlog:\n  requests: true\n',
      );
      server = await startServe(['--config', config, '--addr', '127.0.0.1:0', '-o', 'json']);
      oci = (path) => `oci://${server.host}/${path}`;
    });
    after(async () => {
      await server?.stop('SIGKILL');
    });

    it('prints no password on the second start; the ready event is JSON; settings from the file apply', async () => {
      const ready = JSON.parse(server.stdout().split('\n')[0]!) as Record<string, unknown>;
      assert.equal(ready.event, 'ready');
      assert.equal(ready.dataDir, data);
      assert.doesNotMatch(server.stderr(), /password/i);
      const t = await token(server.url, 'admin', adminPassword, 'registry:catalog:*');
      assert.equal(t.status, 200, 'the first start’s admin password still works');
      assert.equal(t.expiresIn, 600, 'auth.token_ttl: 10m');
      const logged = () =>
        server
          .stderr()
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .some((l) => l.event === 'request' && l.path === '/service/token' && l.status === 200);
      await eventually(logged, 'the JSON request line');
    });

    it('project, user and member changes from other processes take effect at once: a developer pushes', async () => {
      const created = await serveCli(['project', 'create', 'charts', '--data', data]);
      assert.equal(created.code, 0, created.stderr);
      const dupe = await serveCli(['project', 'create', 'charts', '--data', data]);
      assert.match(dupe.stderr, /^error\[ACCOUNT_EXISTS\]/m);

      const password = 'Dev-passw0rd';
      const noTty = await serveCli(['user', 'add', 'dev', '--data', data]);
      assert.equal(noTty.code, 2);
      assert.match(noTty.stderr, /^error\[USAGE\]: no password given/m);
      const added = await serveCli(['user', 'add', 'dev', '--password-stdin', '--data', data], `${password}\n`);
      assert.equal(added.code, 0, added.stderr);
      assert.ok(!added.stdout.includes(password) && !added.stderr.includes(password));
      const weak = await serveCli(['user', 'add', 'weak', '--password-stdin', '--data', data], 'short\n');
      assert.match(weak.stderr, /^error\[PASSWORD_POLICY\]/m);

      const asDev = { ...env(), CHARTPROV_USERNAME: 'dev', CHARTPROV_PASSWORD: password };
      const denied = await runCli(['push', goldens.helm4.chart, oci('charts'), '--plain-http'], { env: asDev });
      assert.equal(denied.code, 1, 'not a member yet');
      assert.match(denied.stderr, /^error\[REGISTRY_DENIED\]/m);

      const member = await serveCli(['project', 'member', 'charts', 'dev', 'developer', '--data', data]);
      assert.equal(member.code, 0, member.stderr);
      const badRole = await serveCli(['project', 'member', 'charts', 'dev', 'owner', '--data', data]);
      assert.match(badRole.stderr, /^error\[USAGE\]: unknown role "owner"/m);
      const pushed = await runCli(['push', goldens.helm4.chart, oci('charts'), '--plain-http'], { env: asDev });
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.ok(!pushed.stderr.includes(password));

      const list = await serveCli(['project', 'list', '--data', data, '-o', 'json']);
      const { projects } = JSON.parse(list.stdout) as { projects: Array<{ name: string; repositories: number; members: unknown[] }> };
      assert.deepEqual(
        projects.map((p) => [p.name, p.repositories, p.members]),
        [['charts', 1, [{ user: 'dev', role: 'developer' }]]],
      );
      const table = await serveCli(['project', 'list', '--data', data]);
      assert.match(table.stdout, /^NAME +ACCESS +REPOSITORIES +CREATED +MEMBERS\ncharts +private +1 +\S+ +dev \(developer\)$/m);
      const users = await serveCli(['user', 'list', '--data', data, '-o', 'json']);
      assert.deepEqual(
        (JSON.parse(users.stdout) as { users: Array<{ name: string }> }).users.map((u) => u.name),
        ['admin', 'dev'],
      );
      assert.doesNotMatch(users.stdout, /passwordHash|\$2[aby]\$/);
    });

    it('users: added on a terminal (asked twice, no echo), password changed, deleted', async () => {
      const password = 'Tty-passw0rd';
      const r = await onTerminal(['serve', 'user', 'add', 'tty', '--data', data], {
        'New password for tty:': `${password}\r`,
        'Repeat the password:': `${password}\r`,
      });
      assert.equal(r.code, 0, r.screen);
      assert.ok(!r.screen.includes(password), 'not echoed');
      const differ = await onTerminal(['serve', 'user', 'passwd', 'tty', '--data', data], {
        'New password for tty:': `${password}\r`,
        'Repeat the password:': 'Other-passw0rd\r',
      });
      assert.equal(differ.code, 2, differ.screen);
      assert.match(differ.screen, /error\[USAGE\]: the two passwords differ/);
      assert.equal((await token(server.url, 'tty', password, 'registry:catalog:*')).status, 200);

      const changed = await serveCli(['user', 'passwd', 'tty', '--password-stdin', '--data', data], 'New-passw0rd\n');
      assert.equal(changed.code, 0, changed.stderr);
      assert.equal((await token(server.url, 'tty', password, 'registry:catalog:*')).status, 401, 'the old password stops working');
      assert.equal((await token(server.url, 'tty', 'New-passw0rd', 'registry:catalog:*')).status, 200);
      const del = await serveCli(['user', 'del', 'tty', '--data', data]);
      assert.equal(del.code, 0, del.stderr);
      assert.equal((await token(server.url, 'tty', 'New-passw0rd', 'registry:catalog:*')).status, 401);
      const again = await serveCli(['user', 'del', 'tty', '--data', data]);
      assert.match(again.stderr, /^error\[ACCOUNT_NOT_FOUND\]/m);
    });

    it("a robot's secret is printed once and logs in with exactly its permissions; deleting it locks it out", async () => {
      const r = await serveCli([
        'robot',
        'create',
        'ci',
        '--project',
        'charts:pull',
        '--expires-days',
        '30',
        '--description',
        'CI',
        '--data',
        data,
        '-o',
        'json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const robot = JSON.parse(r.stdout) as { name: string; secret: string; expiresAt: string; secretHash?: string };
      assert.equal(robot.name, 'robot$ci');
      assert.match(robot.secret, /^[A-Za-z0-9]{32}$/);
      assert.equal(robot.secretHash, undefined);
      assert.ok(Date.parse(robot.expiresAt) > Date.now() + 29 * 86_400_000);

      const t = await token(server.url, robot.name, robot.secret, 'repository:charts/hello-world:pull,push');
      assert.equal(t.status, 200);
      assert.deepEqual(t.access, [{ type: 'repository', name: 'charts/hello-world', actions: ['pull'] }], 'pull only');
      const versions = await runCli(['versions', `oci://${server.host}/charts/hello-world`, '--plain-http'], {
        env: { ...env(), CHARTPROV_USERNAME: robot.name, CHARTPROV_PASSWORD: robot.secret },
      });
      assert.equal(versions.code, 0, versions.stderr);
      assert.equal(versions.stdout.trim(), '0.1.0');

      const text = await serveCli(['robot', 'create', 'ci2', '--project', 'charts:pull,push', '--project', '*:pull', '--data', data]);
      assert.match(text.stdout, /^name: +robot\$ci2\nsecret: +[A-Za-z0-9]{32}\n/);
      const list = await serveCli(['robot', 'list', '--data', data]);
      assert.match(list.stdout, /^robot\$ci2 +charts:pull,push \*:pull +never/m);
      assert.doesNotMatch(list.stdout, /[A-Za-z0-9]{32}/, 'no secret in the list');
      const bad = await serveCli(['robot', 'create', 'ci3', '--project', 'charts:pul', '--data', data]);
      assert.match(bad.stderr, /^error\[USAGE\]: invalid robot permission "charts:pul"/m);

      assert.equal((await serveCli(['robot', 'delete', 'ci', '--data', data])).code, 0);
      assert.equal((await token(server.url, robot.name, robot.secret, 'repository:charts/hello-world:pull')).status, 401);
    });

    it('project delete refuses a project holding repositories; --force empties them; gc refuses while the server runs', async () => {
      const refused = await serveCli(['project', 'delete', 'charts', '--data', data]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error\[PROJECT_NOT_EMPTY\]: project charts still holds 1 repository/m);
      const forced = await serveCli(['project', 'delete', 'charts', '--force', '--data', data, '-o', 'json']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(JSON.parse(forced.stdout), { name: 'charts', repositories: ['charts/hello-world'], manifestsDeleted: 1 });
      const gone = await runCli(['versions', `oci://${server.host}/charts/hello-world`, '--plain-http'], {
        env: { ...env(), CHARTPROV_USERNAME: 'admin', CHARTPROV_PASSWORD: adminPassword },
      });
      assert.equal(gone.code, 1, 'the project is gone for the running server');

      const locked = await serveCli(['gc', '--data', data]);
      assert.equal(locked.code, 1);
      assert.match(locked.stderr, /^error\[REGISTRY_DATA_LOCKED\]: .*registry server/m);
      const second = await serveCli(['--addr', '127.0.0.1:0', '--data', data]);
      assert.equal(second.code, 1, 'one server per data folder');
      assert.match(second.stderr, /^error\[REGISTRY_DATA_LOCKED\]/m);
      assert.equal(await server.stop('SIGINT'), 0, 'SIGINT stops it cleanly too');
    });

    it('gc --dry-run reports the blobs --force left behind and removes nothing; gc removes them', async () => {
      const dry = await serveCli(['gc', '--dry-run', '--data', data]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^would delete blob sha256:[a-f0-9]{64} \(\d+ bytes\)$/m);
      assert.match(dry.stdout, /^gc \(dry run\): would delete 4 blobs, freeing .*Nothing was removed\.$/m);
      const json = JSON.parse((await serveCli(['gc', '--dry-run', '--data', data, '-o', 'json'])).stdout) as {
        dryRun: boolean;
        blobsDeleted: unknown[];
      };
      assert.equal(json.dryRun, true);
      assert.equal(json.blobsDeleted.length, 4, 'the chart, its prov, its config and the manifest: still there');
      const real = await serveCli(['gc', '--data', data]);
      assert.match(real.stdout, /^gc: deleted 4 blobs, freed /m);
      const after = await serveCli(['gc', '--dry-run', '--data', data]);
      assert.match(after.stdout, /would delete 0 blobs/);
    });
  });
});
