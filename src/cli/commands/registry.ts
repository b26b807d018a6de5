import { createInterface } from 'node:readline/promises';
import { UsageError } from '../../errors.js';
import { registryLogin, registryLogout } from '../../flows/registry-login.js';
import { printJson, println, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { promptHidden, readStdin } from '../passphrase.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';

interface LoginFlags extends RegistryFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  output: OutputFormat;
}

async function promptLine(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}

export async function loginCommand(host: string, flags: LoginFlags): Promise<number> {
  if (flags.password !== undefined && flags.passwordStdin) {
    throw new UsageError('--password and --password-stdin are mutually exclusive', { hint: 'use --password-stdin alone' });
  }
  const interactive = process.stdin.isTTY === true && !flags.passwordStdin;
  // As helm and docker: on a terminal, ask for what the flags did not give.
  const username = flags.username ?? process.env.CHARTPROV_USERNAME ?? (interactive ? await promptLine('Username: ') : undefined);
  if (!username) throw new UsageError('a user name is required', { hint: 'pass -u USER (or set CHARTPROV_USERNAME)' });
  let password = flags.password;
  if (flags.passwordStdin) {
    // As docker and helm: the password is the whole of stdin minus the trailing newline.
    password = (await readStdin()).replace(/\r?\n$/, '');
  } else if (password !== undefined) {
    warn('using --password on the command line is insecure (it shows in process lists and shell history); use --password-stdin');
  } else {
    password = process.env.CHARTPROV_PASSWORD ?? (interactive ? await promptHidden('Password: ') : undefined);
  }
  if (!password) throw new UsageError('a password is required', { hint: 'pipe it in with --password-stdin, or set CHARTPROV_PASSWORD' });
  const result = await registryLogin({ ...registryOptionsFromFlags(flags), host, username, password });
  if (flags.output === 'json') printJson(result);
  else println(`Login Succeeded (${result.username}@${result.registry}, saved to ${result.savedTo})`);
  return 0;
}

export async function logoutCommand(host: string, flags: RegistryFlags & { output: OutputFormat }): Promise<number> {
  const result = await registryLogout({ host, registryConfig: flags.registryConfig });
  if (flags.output === 'json') printJson(result);
  else println(result.removed ? `Removing login credentials for ${result.registry}` : `Not logged in to ${result.registry}`);
  return 0;
}
