// Registry authentication against fake registries and a fake token service:
// Basic (challenge once, then pre-emptive), Bearer tokens (one fetch per
// scope set, shared by parallel requests, renewed on expiry, re-challenged
// once when refused), identity and registry tokens, and errors that name the
// problem without ever carrying a secret.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { RegistryCredential } from '../../src/oci/auth.js';
import type { RegistryClient } from '../../src/oci/client.js';
import {
  assertNoSecrets,
  basic,
  errorBody,
  json,
  makeClient,
  rejectsWith,
  send,
  startServer,
  type FakeServer,
  type Recorded,
} from './fake-registry.js';

const USER = 'alice';
const PASSWORD = 'pa55-w0rd-SECRET';
const IDENTITY_TOKEN = 'refresh-TOKEN-SECRET';
const REGISTRY_TOKEN = 'registry-TOKEN-SECRET';
const SECRETS = [PASSWORD, IDENTITY_TOKEN, REGISTRY_TOKEN, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')];

const MANIFEST = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const ok = (res: ServerResponse) => send(res, 200, MANIFEST, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });

/** A registry request sent without Authorization: in these registries, one that was answered 401. */
const anonymous = (r: Recorded) => r.headers.authorization === undefined;

// ---- Basic ------------------------------------------------------------------

/** A registry that wants `Basic alice:PASSWORD` on every request. */
async function basicRegistry(): Promise<{ server: FakeServer; statuses: number[] }> {
  const statuses: number[] = [];
  const server = await startServer((req, res) => {
    if (req.headers.authorization !== basic(USER, PASSWORD)) {
      statuses.push(401);
      return json(res, 401, errorBody('UNAUTHORIZED', 'authentication required'), { 'www-authenticate': 'Basic realm="fake registry"' });
    }
    statuses.push(200);
    ok(res);
  });
  return { server, statuses };
}

async function withBasic(
  credential: RegistryCredential | undefined,
  fn: (server: FakeServer, client: RegistryClient, statuses: number[]) => Promise<void>,
): Promise<void> {
  const { server, statuses } = await basicRegistry();
  const client = await makeClient(credential ? { credential } : {});
  try {
    await fn(server, client, statuses);
  } finally {
    await client.close();
    await server.close();
  }
}

describe('Basic auth', () => {
  it('reports a Basic challenge without credentials as REGISTRY_LOGIN_REQUIRED, after one request', async () => {
    await withBasic(undefined, async (server, client) => {
      const err = await rejectsWith(
        client.repository(server.host, 'charts/a').fetchManifest('1.0.0'),
        'REGISTRY_LOGIN_REQUIRED',
        /needs a login/,
      );
      assert.match(err.hint ?? '', /chartprov registry login/);
      assert.equal(server.count(), 1);
    });
  });

  it('reports a password the registry keeps refusing as REGISTRY_CREDENTIALS_REJECTED, without the password', async () => {
    await withBasic({ username: USER, password: 'wrong-SECRET-pw' }, async (server, client) => {
      const err = await rejectsWith(
        client.repository(server.host, 'charts/a').fetchManifest('1.0.0'),
        'REGISTRY_CREDENTIALS_REJECTED',
        /rejected the password of user alice/,
      );
      assert.equal(server.count(), 2, 'one challenge, one answer');
      assert.equal(server.requests[1]!.headers.authorization, basic(USER, 'wrong-SECRET-pw'));
      assertNoSecrets(err, ['wrong-SECRET-pw', Buffer.from(`${USER}:wrong-SECRET-pw`).toString('base64')]);
      // A later request sends the (refused) header at once and gives up without a second round.
      await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest('2.0.0'), 'REGISTRY_CREDENTIALS_REJECTED');
      assert.equal(server.count(), 3);
    });
  });

  it('sends Basic pre-emptively once the registry has challenged (one 401 over several requests)', async () => {
    await withBasic({ username: USER, password: PASSWORD }, async (server, client, statuses) => {
      const repo = client.repository(server.host, 'charts/a');
      for (const tag of ['1', '2', '3', '4']) await repo.fetchManifest(tag);
      await client.repository(server.host, 'charts/other').fetchManifest('1');
      assert.deepEqual(statuses, [401, 200, 200, 200, 200, 200]);
      assert.ok(server.requests.slice(1).every((r) => r.headers.authorization === basic(USER, PASSWORD)));
    });
  });

  it('asks the credential lookup for the registry host, once', async () => {
    const { server } = await basicRegistry();
    const asked: string[] = [];
    const client = await makeClient({
      credentials: {
        get: async (host) => {
          asked.push(host);
          return { credential: { username: USER, password: PASSWORD }, source: 'test' };
        },
      },
    });
    try {
      await client.repository(server.host, 'charts/a').fetchManifest('1');
      await client.repository(server.host, 'charts/a').fetchManifest('2');
      assert.deepEqual(asked, [server.host]);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

// ---- Bearer -----------------------------------------------------------------

interface BearerOptions {
  /** Token lifetime the service announces (`expires_in`). */
  expiresIn?: number;
  /** Delay of each token answer, in ms. */
  tokenDelayMs?: number;
  /** Registry paths whose 401 is held back this long, in ms. */
  slow401?: { path: RegExp; ms: number };
}

interface Bearer {
  registry: FakeServer;
  tokens: FakeServer;
  client: RegistryClient;
  /** Refuse every token from now on (a token without the scope asked for). */
  rejectTokens: boolean;
  /** Scopes each issued token carries. */
  issued: Map<string, string[]>;
}

/**
 * A registry that wants `Bearer <token>` with `repository:<name>:pull`, and a
 * token service issuing them: anonymous tokens carry no access; Basic
 * alice:PASSWORD and the refresh-token grant with IDENTITY_TOKEN get what they ask.
 */
async function withBearer(
  credential: RegistryCredential | undefined,
  fn: (b: Bearer) => Promise<void>,
  opts: BearerOptions = {},
): Promise<void> {
  const issued = new Map<string, string[]>();
  let n = 0;
  const tokens = await startServer(async (req, res) => {
    if (opts.tokenDelayMs) await sleep(opts.tokenDelayMs);
    let scopes: string[];
    let user: string | undefined;
    if (req.method === 'POST') {
      const form = new URLSearchParams(req.body.toString('utf8'));
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== IDENTITY_TOKEN) {
        return json(res, 401, { error: 'invalid_grant' });
      }
      user = USER;
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    } else {
      const auth = req.headers.authorization;
      if (auth !== undefined && auth !== basic(USER, PASSWORD)) return json(res, 401, errorBody('UNAUTHORIZED', 'bad credentials'));
      user = auth ? USER : undefined;
      scopes = req.query.getAll('scope');
    }
    const token = `tok-${++n}`;
    issued.set(token, user ? scopes : []);
    const body: Record<string, unknown> = { expires_in: opts.expiresIn ?? 300, issued_at: new Date().toISOString() };
    body[req.method === 'POST' ? 'access_token' : 'token'] = token;
    json(res, 200, body);
  });
  const state = { rejectTokens: false };
  const registry = await startServer(async (req, res) => {
    const name = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(req.path)?.[1];
    const need = name ? `repository:${name}:pull` : undefined;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const has = token === REGISTRY_TOKEN || (token !== undefined && issued.has(token) && (!need || issued.get(token)!.includes(need)));
    if (has && !state.rejectTokens) return ok(res);
    if (opts.slow401?.path.test(req.path)) await sleep(opts.slow401.ms);
    const params = [`realm="${tokens.origin}/token"`, 'service="fake-registry"'];
    if (need) params.push(`scope="${need}"`);
    if (token) params.push('error="insufficient_scope"');
    json(res, 401, errorBody('UNAUTHORIZED', 'authentication required'), { 'www-authenticate': `Bearer ${params.join(',')}` });
  });
  const client = await makeClient(credential ? { credential } : {});
  const b: Bearer = {
    registry,
    tokens,
    client,
    issued,
    get rejectTokens() {
      return state.rejectTokens;
    },
    set rejectTokens(v: boolean) {
      state.rejectTokens = v;
    },
  };
  try {
    await fn(b);
  } finally {
    await client.close();
    await registry.close();
    await tokens.close();
  }
}

const creds: RegistryCredential = { username: USER, password: PASSWORD };

describe('Bearer auth', () => {
  it('fetches one token for 10 parallel requests of one scope set, and reuses it', async () => {
    await withBearer(
      creds,
      async ({ registry, tokens, client }) => {
        const repo = client.repository(registry.host, 'charts/a');
        await Promise.all(Array.from({ length: 10 }, (_, i) => repo.fetchManifest(`1.0.${i}`)));
        assert.equal(tokens.count(), 1);
        const req = tokens.requests[0]!;
        assert.equal(req.headers.authorization, basic(USER, PASSWORD));
        assert.equal(req.query.get('service'), 'fake-registry');
        assert.deepEqual(req.query.getAll('scope'), ['repository:charts/a:pull']);
        // Warm: the cached token goes out with the first request.
        await Promise.all(Array.from({ length: 10 }, (_, i) => repo.fetchManifest(`2.0.${i}`)));
        assert.equal(tokens.count(), 1);
        assert.equal(registry.count(anonymous), 10, 'only the cold requests went without a token');
        assert.equal(registry.count(), 30);
      },
      { tokenDelayMs: 50 },
    );
  });

  it('keeps a fresh token when a late 401 arrives for a request sent before the token existed', async () => {
    await withBearer(
      creds,
      async ({ registry, tokens, client }) => {
        const repo = client.repository(registry.host, 'charts/a');
        await Promise.all([repo.fetchManifest('fast'), repo.fetchManifest('slow')]);
        assert.equal(tokens.count(), 1);
        assert.equal(registry.requests.at(-1)!.url, '/v2/charts/a/manifests/slow');
        assert.equal(registry.requests.at(-1)!.headers.authorization, 'Bearer tok-1');
      },
      { slow401: { path: /\/slow$/, ms: 150 } },
    );
  });

  it('fetches a new token, without a 401, for another repository', async () => {
    await withBearer(creds, async ({ registry, tokens, client }) => {
      await client.repository(registry.host, 'charts/a').fetchManifest('1');
      await client.repository(registry.host, 'charts/b').fetchManifest('1');
      await client.repository(registry.host, 'charts/a').fetchManifest('2');
      assert.equal(tokens.count(), 2);
      assert.deepEqual(tokens.requests[1]!.query.getAll('scope'), ['repository:charts/b:pull']);
      assert.equal(registry.count(anonymous), 1, 'the realm is known after the first challenge');
    });
  });

  it('renews a token when it expires', async () => {
    // expires_in 1 s: the client renews early, after half of it.
    await withBearer(
      creds,
      async ({ registry, tokens, client }) => {
        const repo = client.repository(registry.host, 'charts/a');
        await repo.fetchManifest('1');
        await repo.fetchManifest('2');
        assert.equal(tokens.count(), 1);
        await sleep(600);
        await repo.fetchManifest('3');
        assert.equal(tokens.count(), 2);
        assert.equal(registry.requests.at(-1)!.headers.authorization, 'Bearer tok-2');
        assert.equal(registry.count(anonymous), 1);
      },
      { expiresIn: 1 },
    );
  });

  it('re-challenges once when the registry refuses a cached token, then reports REGISTRY_DENIED with credentials', async () => {
    await withBearer(creds, async (b) => {
      const repo = b.client.repository(b.registry.host, 'charts/a');
      await repo.fetchManifest('1');
      b.rejectTokens = true;
      const before = { registry: b.registry.count(), tokens: b.tokens.count() };
      const err = await rejectsWith(repo.fetchManifest('2'), 'REGISTRY_DENIED', /user alice may not pull/);
      assert.equal(b.registry.count() - before.registry, 2, 'cached token, then one fresh token');
      assert.equal(b.tokens.count() - before.tokens, 1);
      assert.deepEqual(
        b.registry.requests.slice(-2).map((r) => r.headers.authorization),
        ['Bearer tok-1', 'Bearer tok-2'],
      );
      assertNoSecrets(err, SECRETS);
    });
  });

  it('reports a refused anonymous token as REGISTRY_LOGIN_REQUIRED', async () => {
    await withBearer(undefined, async ({ registry, tokens, client }) => {
      await rejectsWith(client.repository(registry.host, 'charts/a').fetchManifest('1'), 'REGISTRY_LOGIN_REQUIRED');
      assert.equal(registry.count(), 2, 'anonymous, then with the anonymous token');
      assert.equal(tokens.count(), 1);
      assert.equal(tokens.requests[0]!.headers.authorization, undefined);
    });
  });

  it('reports a token service refusing the password (401) as REGISTRY_CREDENTIALS_REJECTED, without the password', async () => {
    await withBearer({ username: USER, password: 'wrong-SECRET-pw' }, async ({ registry, tokens, client }) => {
      const err = await rejectsWith(
        client.repository(registry.host, 'charts/a').fetchManifest('1'),
        'REGISTRY_CREDENTIALS_REJECTED',
        /rejected the credentials of user alice/,
      );
      assert.equal(tokens.count(), 1);
      assertNoSecrets(err, ['wrong-SECRET-pw', Buffer.from(`${USER}:wrong-SECRET-pw`).toString('base64')]);
    });
  });

  it('exchanges an identity token with a POST refresh_token grant', async () => {
    await withBearer({ identityToken: IDENTITY_TOKEN }, async ({ registry, tokens, client }) => {
      await client.repository(registry.host, 'charts/a').fetchManifest('1');
      assert.equal(tokens.count(), 1);
      const req = tokens.requests[0]!;
      assert.equal(req.method, 'POST');
      assert.match(String(req.headers['content-type']), /^application\/x-www-form-urlencoded/);
      assert.equal(req.headers.authorization, undefined);
      const form = new URLSearchParams(req.body.toString('utf8'));
      assert.equal(form.get('grant_type'), 'refresh_token');
      assert.equal(form.get('refresh_token'), IDENTITY_TOKEN);
      assert.equal(form.get('service'), 'fake-registry');
      assert.equal(form.get('scope'), 'repository:charts/a:pull');
      assert.equal(registry.requests.at(-1)!.headers.authorization, 'Bearer tok-1');
    });
  });

  it('reports a refused identity token as REGISTRY_CREDENTIALS_REJECTED, without the token', async () => {
    await withBearer({ identityToken: 'stale-refresh-SECRET' }, async ({ registry, client }) => {
      const err = await rejectsWith(client.repository(registry.host, 'charts/a').fetchManifest('1'), 'REGISTRY_CREDENTIALS_REJECTED');
      assertNoSecrets(err, ['stale-refresh-SECRET']);
    });
  });

  it('sends a registry token as the Bearer token itself, with no token request', async () => {
    await withBearer({ registryToken: REGISTRY_TOKEN }, async ({ registry, tokens, client }) => {
      const repo = client.repository(registry.host, 'charts/a');
      await repo.fetchManifest('1');
      await repo.fetchManifest('2');
      assert.equal(tokens.count(), 0);
      assert.equal(registry.requests.at(-1)!.headers.authorization, `Bearer ${REGISTRY_TOKEN}`);
      assert.equal(registry.requests.at(-2)!.headers.authorization, `Bearer ${REGISTRY_TOKEN}`);
    });
  });

  it('takes credentials from the credential lookup for the registry host', async () => {
    const asked: string[] = [];
    await withBearer(undefined, async ({ registry, tokens }) => {
      const client = await makeClient({
        credentials: {
          get: async (host) => {
            asked.push(host);
            return { credential: { username: USER, password: PASSWORD }, source: 'test' };
          },
        },
      });
      try {
        await client.repository(registry.host, 'charts/a').fetchManifest('1');
        assert.deepEqual(asked, [registry.host]);
        assert.equal(tokens.requests[0]!.headers.authorization, basic(USER, PASSWORD));
      } finally {
        await client.close();
      }
    });
  });
});

describe('secrets in errors', () => {
  it('keeps secrets out of an error about a token service that answers 500 quoting the request', async () => {
    const tokens = await startServer((req, res) =>
      json(res, 500, errorBody('UNKNOWN', `cannot check ${req.headers.authorization ?? ''} ${req.body.toString('utf8')}`)),
    );
    const registry = await startServer((_req, res) =>
      send(res, 401, '', { 'www-authenticate': `Bearer realm="${tokens.origin}/token",service="fake"` }),
    );
    try {
      for (const credential of [creds, { identityToken: IDENTITY_TOKEN }] as RegistryCredential[]) {
        const client = await makeClient({ credential });
        try {
          const err = await rejectsWith(client.repository(registry.host, 'charts/a').fetchManifest('1'), 'REGISTRY_ERROR', /answered 500/);
          assertNoSecrets(err, SECRETS);
        } finally {
          await client.close();
        }
      }
    } finally {
      await registry.close();
      await tokens.close();
    }
  });

  it('keeps secrets out of every auth error', async () => {
    const errors: Error[] = [];
    await withBearer(creds, async (b) => {
      b.rejectTokens = true;
      errors.push(await rejectsWith(b.client.repository(b.registry.host, 'charts/a').fetchManifest('1'), 'REGISTRY_DENIED'));
    });
    await withBearer({ username: USER, password: `${PASSWORD}x` }, async (b) => {
      errors.push(await rejectsWith(b.client.repository(b.registry.host, 'charts/a').fetchManifest('1'), 'REGISTRY_CREDENTIALS_REJECTED'));
    });
    await withBasic({ username: USER, password: `${PASSWORD}x` }, async (server, client) => {
      errors.push(await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest('1'), 'REGISTRY_CREDENTIALS_REJECTED'));
    });
    for (const err of errors) assertNoSecrets(err, SECRETS);
  });
});

describe('which credentials go where', () => {
  it('looks credentials up under the registry as written (a port with a leading zero stays as typed)', async () => {
    const { server } = await basicRegistry();
    const asked: string[] = [];
    const client = await makeClient({
      credentials: { get: async (host) => (asked.push(host), { credential: { username: USER, password: PASSWORD }, source: 'test' }) },
    });
    try {
      const written = `127.0.0.1:0${server.port}`;
      await client.repository(written, 'charts/a').fetchManifest('1.0.0');
      assert.deepEqual([...new Set(asked)], [written]);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('sends no credentials to an upload Location on another host', async () => {
    const other = await startServer((_req, res) => send(res, 201, '', { 'docker-content-digest': 'sha256:' + '0'.repeat(64) }));
    const seen: Array<string | undefined> = [];
    const { server } = await basicRegistry();
    const registry = await startServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== basic(USER, PASSWORD)) {
        return json(res, 401, errorBody('UNAUTHORIZED', 'x'), { 'www-authenticate': 'Basic realm="r"' });
      }
      if (req.method === 'HEAD') return send(res, 404);
      send(res, 202, '', { location: `http://localhost:${other.port}/upload/1` });
    });
    const client = await makeClient({ credential: { username: USER, password: PASSWORD } });
    try {
      await client
        .repository(registry.host, 'charts/a')
        .pushBlob({ bytes: Buffer.from('hello') })
        .catch(() => undefined);
      assert.ok(
        other.requests.every((r) => r.headers.authorization === undefined),
        'the other host got no Authorization',
      );
      assert.ok(other.requests.length > 0, 'the upload went to the other host');
    } finally {
      await client.close();
      await Promise.all([server.close(), registry.close(), other.close()]);
    }
  });
});
