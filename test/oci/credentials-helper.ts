// A fake docker-credential-test for the credential store's tests: a shell
// launcher on PATH that runs a small Node program keeping entries in a JSON
// file and logging every call, so tests can see what the store asked for.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export type FakeHelperMode = 'ok' | 'fail' | 'hang';

export interface FakeHelper {
  /** An environment with the helper first on PATH. */
  env: NodeJS.ProcessEnv;
  /** Entries as the helper holds them, by server address. */
  entries(): Promise<Record<string, { Username: string; Secret: string }>>;
  setEntry(server: string, username: string, secret: string): Promise<void>;
  /** Every call: action and what was on stdin. */
  calls(): Promise<Array<{ action: string; input: string }>>;
  setMode(mode: FakeHelperMode): Promise<void>;
}

const PROGRAM = `
const fs = require('node:fs');
const [state, log, modeFile] = process.argv.slice(2, 5);
const action = process.argv[5];
const read = (f, d) => { try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch { return d; } };
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  fs.appendFileSync(log, JSON.stringify({ action, input }) + '\\n');
  const mode = fs.existsSync(modeFile) ? fs.readFileSync(modeFile, 'utf8') : 'ok';
  if (mode === 'hang') return setTimeout(() => {}, 60000);
  if (mode === 'fail') {
    // A careless helper: it prints what it was given, secrets included.
    process.stdout.write('boom: ' + input + '\\n');
    process.stderr.write('boom: ' + input + '\\n');
    process.exit(3);
  }
  const entries = read(state, {});
  const notFound = () => { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); };
  if (action === 'get') {
    const e = entries[input];
    if (!e) return notFound();
    process.stdout.write(JSON.stringify({ ServerURL: input, Username: e.Username, Secret: e.Secret }) + '\\n');
  } else if (action === 'store') {
    const c = JSON.parse(input);
    entries[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
    fs.writeFileSync(state, JSON.stringify(entries));
  } else if (action === 'erase') {
    if (!entries[input]) return notFound();
    delete entries[input];
    fs.writeFileSync(state, JSON.stringify(entries));
  } else {
    process.exit(2);
  }
});
`;

/** Writes docker-credential-test into `dir` (its bin/ subfolder) and returns an env that finds it. */
export async function fakeHelper(dir: string, name = 'test'): Promise<FakeHelper> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const state = join(dir, `${name}-state.json`);
  const log = join(dir, `${name}-calls.log`);
  const modeFile = join(dir, `${name}-mode`);
  const program = join(dir, `${name}-helper.cjs`);
  await writeFile(program, PROGRAM);
  const launcher = join(bin, `docker-credential-${name}`);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  await writeFile(launcher, `#!/bin/sh\nexec ${q(process.execPath)} ${[program, state, log, modeFile].map(q).join(' ')} "$@"\n`);
  await chmod(launcher, 0o755);
  const readJson = async <T>(f: string, d: T): Promise<T> => {
    try {
      return JSON.parse(await readFile(f, 'utf8')) as T;
    } catch {
      return d;
    }
  };
  return {
    env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, HOME: dir },
    entries: () => readJson(state, {}),
    async setEntry(server, Username, Secret) {
      const all = await readJson<Record<string, unknown>>(state, {});
      await writeFile(state, JSON.stringify({ ...all, [server]: { Username, Secret } }));
    },
    async calls() {
      const text = await readFile(log, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { action: string; input: string });
    },
    setMode: (mode) => writeFile(modeFile, mode),
  };
}
