/**
 * Docker credential helpers (`docker-credential-NAME get|store|erase`), the
 * protocol of github.com/docker/docker-credential-helpers. A helper's output
 * is never quoted in our messages: on `get` it may be the secret itself, and
 * a buggy helper may echo what it was given on `store`.
 */
import { spawn } from 'node:child_process';
import { CredentialsError } from '../../errors.js';
import type { RegistryCredential } from './types.js';

const PREFIX = 'docker-credential-';
/** Helpers send this for "no such entry"; it is an answer, not a failure. */
const NOT_FOUND = 'credentials not found in native keychain';
/** Docker's marker for a Secret that is an identity token rather than a password. */
const TOKEN_USERNAME = '<token>';
const MAX_OUTPUT = 1 << 20;

export interface HelperOptions {
  /** The helper's environment; its PATH is where the helper is looked for. */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

export function helperCommand(name: string): string {
  return `${PREFIX}${name}`;
}

/** The credential a helper holds for `serverAddress`, or undefined when it has none. */
export async function helperGet(name: string, serverAddress: string, opts: HelperOptions): Promise<RegistryCredential | undefined> {
  const result = await runHelper(name, 'get', serverAddress, opts);
  if (result === 'not-found') return undefined;
  let reply: unknown;
  try {
    reply = JSON.parse(result);
  } catch {
    throw helperError(name, 'get', 'it printed something that is not JSON');
  }
  const username = stringField(reply, 'Username');
  const secret = stringField(reply, 'Secret');
  if (!username && !secret) return undefined;
  return username === TOKEN_USERNAME ? { identityToken: secret } : { username, password: secret };
}

export async function helperStore(name: string, serverAddress: string, cred: RegistryCredential, opts: HelperOptions): Promise<void> {
  const [username, secret] = cred.identityToken ? [TOKEN_USERNAME, cred.identityToken] : [cred.username ?? '', cred.password ?? ''];
  const input = JSON.stringify({ ServerURL: serverAddress, Username: username, Secret: secret });
  await runHelper(name, 'store', input, opts);
}

/** False when the helper had nothing for `serverAddress`. */
export async function helperErase(name: string, serverAddress: string, opts: HelperOptions): Promise<boolean> {
  return (await runHelper(name, 'erase', serverAddress, opts)) !== 'not-found';
}

// Go decodes JSON into structs case-insensitively; helpers in the wild rely on it.
function stringField(obj: unknown, name: string): string {
  if (typeof obj !== 'object' || obj === null) return '';
  const entry = Object.entries(obj).find(([k]) => k.toLowerCase() === name.toLowerCase());
  return typeof entry?.[1] === 'string' ? entry[1] : '';
}

type Action = 'get' | 'store' | 'erase';

/** Runs the helper with `input` on stdin: its stdout, or 'not-found'. */
function runHelper(name: string, action: Action, input: string, opts: HelperOptions): Promise<string | 'not-found'> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    // A name is a suffix, never a path: a config file must not make us run some other program.
    return Promise.reject(helperError(name, action, 'the helper name in the config file is not a plain name'));
  }
  const command = helperCommand(name);
  return new Promise((resolve, reject) => {
    // The lookup uses opts.env's PATH (Node's rule when env is given), so tests and callers choose the helper.
    const child = spawn(command, [action], { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let failure: string | undefined;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) {
        failure ??= 'it printed more than 1 MiB';
        child.kill();
      } else {
        into.push(chunk);
      }
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    const timer = setTimeout(() => {
      failure ??= `it did not finish within ${Math.round(opts.timeoutMs / 1000)} s`;
      child.kill();
    }, opts.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        err.code === 'ENOENT'
          ? 'it is not on PATH'
          : err.code === 'EACCES'
            ? 'it is not executable'
            : `it cannot be run (${err.code ?? 'error'})`;
      reject(helperError(name, action, why, err.code === 'ENOENT' || err.code === 'EACCES' ? undefined : err));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString('utf8');
      if (failure) return reject(helperError(name, action, failure));
      if (code === 0) return resolve(out);
      const err = Buffer.concat(stderr).toString('utf8');
      if (out.includes(NOT_FOUND) || err.includes(NOT_FOUND)) return resolve('not-found');
      reject(helperError(name, action, signal ? `it was killed by ${signal}` : `it exited with status ${code}`));
    });
    // A helper may exit without reading stdin; the EPIPE that follows is not the failure to report.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function helperError(name: string, action: Action, why: string, cause?: unknown): CredentialsError {
  const command = helperCommand(name);
  return new CredentialsError(`credential helper ${command} failed to ${action} credentials: ${why}`, {
    hint: `check that ${command} is installed and works (try: echo HOST | ${command} get), or remove it from the config file's credsStore/credHelpers`,
    cause,
  });
}
