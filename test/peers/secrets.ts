/**
 * The secrets the test suite uses, in one place, and the check that none of
 * them is ever printed (issue 10, part 3). The runners that capture output —
 * the CLI (`cli.ts`), Helm (`helm.ts`), the embedded registry's log and a
 * spawned registry's stderr (`embedded.ts`) — pass every captured text
 * through `assertNoSecrets`, which fails naming the secret's label, never
 * the secret. Secrets made during a test (robot secrets, tokens, generated
 * passwords) join with `rememberSecret` once the test has them.
 *
 * Each test file runs in its own process: the fixed list is known everywhere,
 * remembered ones in the file that remembered them.
 */
import { basename } from 'node:path';
import { recordFigure } from './figures.js';

/** Passwords and passphrases the fixtures and tests use. Labels say whose they are. */
export const SECRETS = {
  /** Pat's key passphrase (../shared/fixtures/README.md). */
  patPassphrase: 'correct horse',
  /** The embedded registry's admin in test/peers/embedded.ts. */
  embeddedAdmin: 'Admin-Passw0rd-For-Tests',
  /** A registry user with every character Basic auth and URLs make hard (colon, ampersand). */
  colonUserPassword: 'Pa55:word-with-colon&stuff',
  /** A classic chart repository behind Basic auth (mirror tests, chart farm). */
  farmPassword: 'Farm-s3cret-Pass',
  /** A chart repository's password in the classic-repo tests. */
  repoPassword: 's3cret',
  /** Robot / registry secret in the audit tests. */
  auditRobot: 'reg-secret',
  /** docker-registry htpasswd user (test/peers/registry.ts tests). */
  htpasswdPassword: 'hunter2',
  /** Users of the embedded registry in the crash, tls, harbor-api and token interop tests. */
  crashDev: 'Dev-Passw0rd-1',
  crashLate: 'Late-Passw0rd-2',
  tlsDev: 'Developer-1',
  harborApi: 'Test-Pass1',
  interopAdmin: 'Admin-Pass-1234',
  interopDev: 'Dev-Pass-5678',
  interopGuest: 'Guest-Pass-9012',
  /** Secrets given deliberately to failing commands in test/cli/secrets.test.ts. */
  leakProbePassword: 'Leak-Probe-Passw0rd-7q',
  leakProbePassphrase: 'leak probe passphrase 9z',
} as const;

/** Shorter values match too much ordinary text to be worth a check. */
const MIN_LENGTH = 6;

const known = new Map<string, string>(Object.entries(SECRETS).map(([label, value]) => [value, label]));

/**
 * A secret made during the test (a robot's secret, a token, a generated
 * password): from now on no captured output may show it.
 */
export function rememberSecret(label: string, value: string | undefined): void {
  if (!value || value.length < MIN_LENGTH || known.has(value)) return;
  known.set(value, label);
}

const formsCache = new Map<string, string[]>();

/** Every form a secret takes on its way out: as is, URL-encoded, JSON-escaped, inside base64 (a Basic header). */
function forms(secret: string): string[] {
  let cached = formsCache.get(secret);
  if (!cached) formsCache.set(secret, (cached = computeForms(secret)));
  return cached;
}

function computeForms(secret: string): string[] {
  const out = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  const bytes = Buffer.from(secret, 'utf8');
  // In base64 the secret's characters depend on where it starts modulo 3
  // (`Basic base64(user:password)`): keep, for each offset, the characters
  // that only the secret's bytes decide.
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    // Character i covers bits [6i, 6i+6): keep those lying wholly inside the secret's bytes.
    const first = Math.ceil((8 * pad) / 6);
    const last = Math.floor((8 * (pad + bytes.length) - 6) / 6);
    const core = encoded.slice(first, last + 1);
    if (core.length >= 8) out.add(core);
  }
  return [...out];
}

const stats = { outputs: 0, leaks: 0, found: new Set<string>() };

/** The labels of the known secrets that appear in any of `texts`. */
export function findSecrets(...texts: string[]): string[] {
  const labels = new Set<string>();
  for (const [secret, label] of known) {
    const variants = forms(secret);
    if (texts.some((t) => variants.some((v) => t.includes(v)))) labels.add(label);
  }
  return [...labels];
}

/** Throws (naming labels, never values) when a known secret appears in what `where` printed. */
export function assertNoSecrets(where: string, ...texts: string[]): void {
  stats.outputs += texts.length;
  const labels = findSecrets(...texts);
  if (labels.length === 0) return;
  stats.leaks += labels.length;
  for (const l of labels) stats.found.add(l);
  throw new Error(`${redact(where)} printed a known secret: ${labels.join(', ')}`);
}

/** `text` with every known secret replaced by `<secret:label>`, for messages that quote commands. */
export function redact(text: string): string {
  let out = text;
  for (const [secret, label] of known) for (const v of forms(secret)) out = out.split(v).join(`<secret:${label}>`);
  return out;
}

/** How many outputs were scanned and leaks found in this process, for the figures. */
export function secretScanStats(): { outputs: number; leaks: number; secrets: number } {
  return { outputs: stats.outputs, leaks: stats.leaks, secrets: known.size };
}

// One figure per test file that captured output: how much was scanned, against how many secrets, what was found.
process.on('exit', () => {
  if (stats.outputs === 0 || !process.env.CHARTPROV_FIGURES) return;
  try {
    recordFigure({
      area: 'secrets',
      item: `outputs of CLI, Helm and registry runs in ${basename(process.argv[1] ?? 'a test file')} scanned for known secrets`,
      tried: stats.outputs,
      outcome: stats.leaks === 0 ? 'no secret printed' : `printed: ${[...stats.found].join(', ')}`,
      lost: stats.leaks,
      measures: { secrets: known.size },
    });
  } catch {
    // A figure is a report, never a reason to fail at exit.
  }
});
