// Password guessing against the embedded registry (issue 10, part 3), on the
// doors auth-matrix.test.ts and ui.test.ts do not try: the token endpoint's
// OAuth2 password grant (POST, what oras and containerd send), every door at
// once (failures on the web UI, the token service and the Harbor API count
// together, so switching doors buys no extra guesses), and a spray of many
// account names from one address. Blocked means 429 with Retry-After, even
// for the right password, while credentials that verified before the attack
// keep working.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEmbedded, type Creds, type EmbeddedRegistry } from '../peers/embedded.js';
import { recordFigure } from '../peers/figures.js';

const WINDOW_MS = 4000;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Tries `password` for `user` through one door; returns the status (and Retry-After). */
type Door = (reg: EmbeddedRegistry, user: string, password: string) => Promise<{ status: number; retryAfter?: string; body: string }>;

async function answer(res: Response): Promise<{ status: number; retryAfter?: string; body: string }> {
  const body = await res.text();
  const retryAfter = res.headers.get('retry-after') ?? undefined;
  return { status: res.status, body, ...(retryAfter ? { retryAfter } : {}) };
}

const doors: Record<string, Door> = {
  'token POST password grant': async (reg, user, password) =>
    answer(
      await fetch(`${reg.url}/service/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          username: user,
          password,
          service: 'chartprov-registry',
          scope: 'repository:team/app:pull',
        }).toString(),
      }),
    ),
  'token GET with Basic': async (reg, user, password) =>
    answer(
      await fetch(`${reg.url}/service/token?service=chartprov-registry&scope=repository:team/app:pull`, {
        headers: { authorization: basic(user, password) },
      }),
    ),
  'Basic on /v2/': async (reg, user, password) =>
    answer(await fetch(`${reg.url}/v2/`, { headers: { authorization: basic(user, password) } })),
  'Harbor API': async (reg, user, password) =>
    answer(await fetch(`${reg.url}/api/v2.0/projects?page_size=10`, { headers: { authorization: basic(user, password) } })),
  'web UI login form': async (reg, user, password) => {
    const form = await fetch(`${reg.url}/ui/login`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const cookie = form.headers
      .getSetCookie()
      .map((s) => s.split(';')[0])
      .join('; ');
    return answer(
      await fetch(`${reg.url}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: reg.url, cookie },
        body: new URLSearchParams({ _csrf: csrf, username: user, password }).toString(),
      }),
    );
  },
};

describe('login limits on every door', () => {
  let reg: EmbeddedRegistry;
  before(async () => {
    reg = await startEmbedded({ projects: ['team'], loginLimits: { windowMs: WINDOW_MS, perAccount: 6, perAddress: 1000 } });
  });
  after(() => reg?.stop());

  test('token POST password grant: 6 wrong passwords, then 429 with Retry-After, the right one refused while blocked', async () => {
    const victim = await reg.addUser('grant-victim', { roles: { team: 'developer' } });
    const other = await reg.addUser('grant-other', { roles: { team: 'developer' } });
    const door = doors['token POST password grant']!;
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await door(reg, victim.username, `Wrong-Passw0rd-${i}`)).status);
    assert.ok(Date.now() - started < WINDOW_MS, 'inside one window, else the test proves nothing');
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429, 429]);
    const right = await door(reg, victim.username, victim.password);
    assert.equal(right.status, 429, 'the right password while blocked');
    assert.ok(!right.body.includes('token'), 'no token while blocked');
    assert.match(right.retryAfter ?? '', /^[1-9]\d*$/);
    assert.equal((await door(reg, other.username, other.password)).status, 200, 'another account is not affected');
    recordFigure({
      area: 'inputs',
      item: "password guessing through the token endpoint's POST password grant",
      tried: 9,
      outcome: '401 ×6, then 429 Retry-After (right password too)',
      lost: 0,
    });
  });

  test('failures on the web UI, the token service and the Harbor API count together; every door is then closed', async () => {
    const victim = await reg.addUser('many-doors', { roles: { team: 'developer' } });
    const tried: string[] = [];
    // Two wrong passwords through each of three doors: 6, the per-account limit.
    for (const name of ['web UI login form', 'token GET with Basic', 'Harbor API']) {
      for (let i = 0; i < 2; i++) {
        const a = await doors[name]!(reg, victim.username, `Wrong-Passw0rd-${name.length}${i}`);
        assert.equal(a.status, 401, name);
        tried.push(name);
      }
    }
    for (const [name, door] of Object.entries(doors)) {
      const a = await door(reg, victim.username, victim.password);
      assert.equal(a.status, 429, `${name} after 6 failures through other doors, with the right password: ${a.status}`);
      assert.match(a.retryAfter ?? '', /^[1-9]\d*$/, name);
    }
    // (auth-matrix.test.ts proves the right password is accepted again once the window has passed.)
    recordFigure({
      area: 'inputs',
      item: 'password guessing spread over web UI, token service and Harbor API (one account)',
      tried: tried.length + 5,
      outcome: 'blocked (429, right password too) on all five doors after 6 failures in total',
      lost: 0,
    });
  });
});

describe('a spray of account names from one address', () => {
  let reg: EmbeddedRegistry;
  let known: Creds;
  before(async () => {
    reg = await startEmbedded({ projects: ['team'], loginLimits: { windowMs: 60_000, perAccount: 1000, perAddress: 20 } });
    known = await reg.addUser('known-user', { roles: { team: 'developer' } });
  });
  after(() => reg?.stop());

  test('20 failures over 20 names block the address, even for a real account; credentials verified before keep working', async () => {
    const door = doors['token GET with Basic']!;
    assert.equal((await door(reg, known.username, known.password)).status, 200, 'verified before the spray');
    const fresh = await reg.addUser('fresh-user', { roles: { team: 'developer' } });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await door(reg, `sprayed-${i}`, 'Guess-Passw0rd-1')).status);
    assert.deepEqual(new Set(statuses), new Set([401]));
    const next = await door(reg, 'sprayed-20', 'Guess-Passw0rd-1');
    assert.equal(next.status, 429, 'a 21st name');
    assert.equal((await door(reg, fresh.username, fresh.password)).status, 429, 'a real account that has not logged in yet');
    assert.equal((await doors['web UI login form']!(reg, fresh.username, fresh.password)).status, 429, 'the web UI too');
    assert.equal((await door(reg, known.username, known.password)).status, 200, 'credentials that verified before are not held up');
    recordFigure({
      area: 'inputs',
      item: 'password spray: 20 account names from one address',
      tried: 24,
      outcome: 'address blocked (429) after 20; recently verified credentials still pass',
      lost: 0,
    });
  });
});
