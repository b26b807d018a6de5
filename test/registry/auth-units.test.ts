// The pieces of the embedded registry's access model on their own: names,
// password rules, the accounts file shared between processes, grants, the
// login limiter and the token format.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { Accounts } from '../../src/registry/auth/accounts.js';
import { grant, parseScope } from '../../src/registry/auth/access.js';
import { LoginLimiter } from '../../src/registry/auth/login-limiter.js';
import { checkPassword, checkProjectName, checkUserName, robotAccountName } from '../../src/registry/auth/names.js';
import { loadOrCreateSigningKey, libtrustKeyId } from '../../src/registry/auth/signing-key.js';
import { TokenService } from '../../src/registry/auth/tokens.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: work, cleanup } = await tempDir('chartprov-auth-')));
after(() => cleanup?.());

describe('names and passwords', () => {
  test('project names follow Harbor', () => {
    for (const ok of ['helm-charts', 'a', 'a.b_c-d', '0x1']) assert.equal(checkProjectName(ok), ok);
    for (const bad of ['', 'Upper', '-a', 'a-', 'a..b', 'a/b', '../x', 'a b'])
      assert.throws(() => checkProjectName(bad), { code: 'ACCOUNT_NAME_INVALID' }, bad);
  });
  test('user names exclude robot$ and separators', () => {
    assert.equal(checkUserName('Alice.B@example.com'), 'Alice.B@example.com');
    for (const bad of ['', 'robot$x', 'a:b', ' a', 'a/b']) assert.throws(() => checkUserName(bad), { code: 'ACCOUNT_NAME_INVALID' }, bad);
    assert.equal(robotAccountName('ci'), 'robot$ci');
    assert.equal(robotAccountName('robot$ci'), 'robot$ci');
    assert.throws(() => robotAccountName('robot$'), { code: 'ACCOUNT_NAME_INVALID' });
  });
  test("passwords follow Harbor's policy", () => {
    assert.equal(checkPassword('Harbor12345'), 'Harbor12345');
    for (const bad of ['Short1', 'alllower123', 'ALLUPPER123', 'NoDigitsHere', `Aa1${'x'.repeat(126)}`])
      assert.throws(() => checkPassword(bad), { code: 'PASSWORD_POLICY' }, bad);
  });
});

describe('accounts file', () => {
  test('two processes-worth of writers lose no change; the file is private; hashes are bcrypt', async () => {
    const dir = join(work, 'accounts');
    const a = await Accounts.open(dir);
    const b = await Accounts.open(dir); // a second handle sees the same file, as another process would
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => a.createProject({ name: `p${i}` })),
      ...Array.from({ length: 8 }, (_, i) => b.createProject({ name: `q${i}` })),
    ]);
    assert.equal(a.listProjects().length, 16);
    assert.equal(b.listProjects().length, 16);
    await a.addUser({ name: 'dev', password: 'Developer1' });
    await b.setMember('p1', 'dev', 'developer');
    assert.deepEqual(a.getProject('p1')?.members, [{ user: 'dev', role: 'developer' }]);
    await assert.rejects(b.createProject({ name: 'p1' }), { code: 'ACCOUNT_EXISTS' });
    await assert.rejects(b.setMember('nope', 'dev', 'guest'), { code: 'ACCOUNT_NOT_FOUND' });
    await assert.rejects(a.deleteProject('p2', { repositories: 1 }), { code: 'PROJECT_NOT_EMPTY' });
    await a.deleteProject('p2', { repositories: 1, force: true });
    const file = join(dir, 'auth', 'accounts.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'auth'))).mode & 0o777, 0o700);
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /Developer1/);
    assert.match(text, /"\$2[aby]\$10\$/);
    assert.ok(await a.authenticate('dev', 'Developer1'));
    assert.equal(await a.authenticate('dev', 'Developer2'), undefined);
    assert.equal(await a.authenticate('ghost', 'Developer1'), undefined);
  });

  test('passwords longer than bcrypt reads (72 bytes) still count to the last character', async () => {
    const acc = await Accounts.open(join(work, 'long'));
    const long = `Aa1${'é'.repeat(60)}`; // 123 bytes, within the policy's 128 characters
    await acc.addUser({ name: 'long', password: long });
    assert.ok(await acc.authenticate('long', long));
    assert.equal(await acc.authenticate('long', `${long.slice(0, -1)}e`), undefined);
    assert.equal(await acc.authenticate('long', long.slice(0, 40)), undefined);
  });

  test('an admin is made on first start even when users were added before; robots of a deleted project go with it', async () => {
    const acc = await Accounts.open(join(work, 'early'));
    await acc.addUser({ name: 'early', password: 'Early-user-1' });
    assert.equal((await acc.ensureInitialAdmin('Admin-pass-1')).created, true);
    await acc.createProject({ name: 'gone' });
    await acc.createProject({ name: 'kept' });
    await acc.createRobot({ name: 'only-gone', permissions: [{ project: 'gone', actions: ['pull'] }] });
    await acc.createRobot({ name: 'both', permissions: [{ project: 'gone', actions: ['pull'] }, { project: 'kept', actions: ['pull'] }] });
    await acc.deleteProject('gone', { repositories: 0 });
    assert.deepEqual(
      acc.listRobots().map((r) => [r.name, r.permissions.map((p) => p.project)]),
      [['robot$both', ['kept']]],
    );
    const copy = acc.listProjects();
    copy[0]!.public = true;
    assert.equal(acc.getProject('kept')!.public, false, 'callers get copies');
  });

  test('the initial admin is made once; the last admin cannot be deleted', async () => {
    const acc = await Accounts.open(join(work, 'admin'));
    const first = await acc.ensureInitialAdmin();
    assert.equal(first.created, true);
    assert.ok(first.generatedPassword && checkPassword(first.generatedPassword));
    assert.deepEqual(await acc.ensureInitialAdmin(), { created: false });
    assert.deepEqual(await acc.authenticate('admin', first.generatedPassword!), { kind: 'user', name: 'admin', admin: true });
    await assert.rejects(acc.deleteUser('admin'), { code: 'USAGE' });
  });

  test('robots: secret shown once, permissions per project, expiry', async () => {
    const acc = await Accounts.open(join(work, 'robots'));
    await acc.createProject({ name: 'charts' });
    const { robot, secret } = await acc.createRobot({ name: 'ci', permissions: [{ project: 'charts', actions: ['pull', 'push', 'pull'] }] });
    assert.equal(robot.name, 'robot$ci');
    assert.deepEqual(robot.permissions, [{ project: 'charts', actions: ['pull', 'push'] }]);
    assert.ok(!('secretHash' in robot));
    assert.deepEqual(await acc.authenticate('robot$ci', secret), { kind: 'robot', name: 'robot$ci', permissions: robot.permissions });
    assert.equal(await acc.authenticate('robot$ci', `${secret}x`), undefined);
    const expired = await acc.createRobot({ name: 'old', permissions: [{ project: '*', actions: ['pull'] }], expiresInDays: 0 });
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await acc.authenticate('robot$old', expired.secret), undefined);
    await assert.rejects(acc.createRobot({ name: 'x', permissions: [{ project: 'missing', actions: ['pull'] }] }), { code: 'ACCOUNT_NOT_FOUND' });
  });
});

describe('grants', () => {
  test('what each principal gets for a scope', async () => {
    const acc = await Accounts.open(join(work, 'grants'));
    await acc.createProject({ name: 'pub', public: true });
    await acc.createProject({ name: 'priv' });
    await acc.addUser({ name: 'dev', password: 'Developer1' });
    await acc.addUser({ name: 'root', password: 'Rootroot1', admin: true });
    await acc.setMember('priv', 'dev', 'developer');
    const state = acc.store.current();
    const ask = (s: string) => [parseScope(s)!];
    const dev = { kind: 'user', name: 'dev', admin: false } as const;
    assert.deepEqual(grant(state, { kind: 'anonymous' }, ask('repository:pub/a:pull,push')), [{ type: 'repository', name: 'pub/a', actions: ['pull'] }]);
    assert.deepEqual(grant(state, { kind: 'anonymous' }, ask('repository:priv/a:pull')), []);
    assert.deepEqual(grant(state, dev, ask('repository:priv/a:pull,push,delete')), [{ type: 'repository', name: 'priv/a', actions: ['pull', 'push'] }]);
    assert.deepEqual(grant(state, dev, ask('repository:pub/a:push')), []);
    assert.deepEqual(grant(state, dev, ask('repository:nope/a:pull')), []);
    assert.deepEqual(grant(state, { kind: 'user', name: 'root', admin: true }, ask('repository:priv/a:*')), [
      { type: 'repository', name: 'priv/a', actions: ['pull', 'push', 'delete'] },
    ]);
    assert.deepEqual(grant(state, dev, ask('registry:catalog:*')), []);
    assert.deepEqual(grant(state, { kind: 'user', name: 'root', admin: true }, ask('registry:catalog:*')), [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.deepEqual(grant(state, dev, [...ask('repository:priv/a:pull'), ...ask('repository:priv/a:pull,push')]), [
      { type: 'repository', name: 'priv/a', actions: ['pull', 'push'] },
    ]);
    assert.deepEqual(parseScope('repository(plugin):a/b:pull'), { type: 'repository', name: 'a/b', actions: ['pull'] });
    assert.equal(parseScope('repository:a/b'), undefined);
  });
});

describe('login limiter', () => {
  test('blocks an account from one address, and an address after more; nobody else is locked out', () => {
    const lim = new LoginLimiter({ windowMs: 60_000, perAccount: 3, perAddress: 5 });
    for (let i = 0; i < 3; i++) lim.failed('alice', '10.0.0.1');
    assert.ok(lim.retryAfter('alice', '10.0.0.1') > 0, 'the guesser is blocked');
    assert.equal(lim.retryAfter('alice', '10.0.0.2'), 0, 'alice from elsewhere is not');
    assert.equal(lim.retryAfter('bob', '10.0.0.2'), 0);
    for (let i = 0; i < 2; i++) lim.failed(`u${i}`, '10.0.0.1');
    assert.ok(lim.retryAfter('carol', '10.0.0.1') > 0, 'the address is blocked for any account');
    lim.failed('dave', '10.0.0.3');
    lim.succeeded('dave', '10.0.0.3');
    assert.equal(lim.retryAfter('dave', '10.0.0.3'), 0);
  });

  test('a name longer than any account costs no bcrypt and no limiter entry', async () => {
    const acc = await Accounts.open(join(work, 'limiter'));
    const { AccessControl } = await import('../../src/registry/auth/control.js');
    const ac = await AccessControl.open({ dataDir: join(work, 'limiter') });
    void acc;
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) assert.equal(await ac.login('x'.repeat(300 + i), 'pw', '10.0.0.9'), undefined);
    assert.ok(Date.now() - t0 < 1000, 'no bcrypt was paid');
    assert.equal(ac.limiter.retryAfter('anyone', '10.0.0.9'), 0);
  });
});

describe('tokens', () => {
  test('libtrust key id has the shape distribution matches', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.match(libtrustKeyId(publicKey), /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
  });

  test('a lost certificate is rebuilt from the key (same kid); a foreign one is refused; the key is never replaced', async () => {
    const dir = join(work, 'key-recovery');
    const first = await loadOrCreateSigningKey(dir);
    const { rm: remove, writeFile: write } = await import('node:fs/promises');
    await remove(join(dir, 'token.crt'));
    const rebuilt = await loadOrCreateSigningKey(dir);
    assert.equal(rebuilt.keyId, first.keyId);
    const other = await loadOrCreateSigningKey(join(work, 'key-other'));
    await write(join(dir, 'token.crt'), other.certificatePem);
    await assert.rejects(loadOrCreateSigningKey(dir), { code: 'SERVE_CONFIG_INVALID' });
    await remove(join(dir, 'token.key'));
    await assert.rejects(loadOrCreateSigningKey(dir), { code: 'SERVE_CONFIG_INVALID' }, 'a key is not made anew beside a certificate');
  });

  test('issued tokens verify; forged, expired and foreign ones do not', async () => {
    const key = await loadOrCreateSigningKey(join(work, 'key'));
    const again = await loadOrCreateSigningKey(join(work, 'key'));
    assert.equal(again.keyId, key.keyId, 'the key persists');
    assert.match(key.certificatePem, /^-----BEGIN CERTIFICATE-----/);
    const svc = new TokenService(key, { service: 'svc', issuer: 'iss', ttlSeconds: 60 });
    const access = [{ type: 'repository', name: 'p/a', actions: ['pull'] }];
    const { token } = await svc.issue('dev', access);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: key.keyId });
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.equal(typeof claims.aud, 'string', 'distribution 2.8 needs a string aud');
    assert.deepEqual(await svc.verify(token), { subject: 'dev', access, expiresAt: claims.exp });

    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const now = Math.floor(Date.now() / 1000);
    const sign = (k = key.privateKey, c: Record<string, unknown> = {}) =>
      new SignJWT({ access })
        .setProtectedHeader({ alg: 'RS256', kid: key.keyId })
        .setIssuer((c['iss'] as string) ?? 'iss')
        .setAudience((c['aud'] as string) ?? 'svc')
        .setSubject('dev')
        .setExpirationTime((c['exp'] as number) ?? now + 60)
        .sign(k);
    assert.ok(await svc.verify(await sign()));
    assert.equal(await svc.verify(await sign(other)), undefined, 'another key');
    assert.equal(await svc.verify(await sign(key.privateKey, { exp: now - 120 })), undefined, 'expired');
    assert.equal(await svc.verify(await sign(key.privateKey, { aud: 'elsewhere' })), undefined, 'audience');
    assert.equal(await svc.verify(await sign(key.privateKey, { iss: 'evil' })), undefined, 'issuer');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${token.split('.')[1]}.`;
    assert.equal(await svc.verify(none), undefined, 'alg none');
    assert.equal(await svc.verify('garbage'), undefined);
  });
});
