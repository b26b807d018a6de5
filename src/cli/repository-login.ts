import { UsageError } from '../errors.js';
import { promptHidden, readStdin } from './passphrase.js';

/**
 * A chart repository's login (pull --repo, mirror from https://…):
 * --username with --password-stdin, else CHARTPROV_PASSWORD, else a prompt
 * on a terminal.
 */
export async function repositoryLogin(flags: {
  username?: string;
  passwordStdin?: boolean;
}): Promise<{ username?: string; password?: string }> {
  if (flags.username === undefined) {
    if (flags.passwordStdin) throw new UsageError('--password-stdin needs --username', { hint: 'pass --username USER --password-stdin' });
    return {};
  }
  let password: string | undefined;
  if (flags.passwordStdin) password = (await readStdin()).replace(/\r?\n$/, '');
  else password = process.env.CHARTPROV_PASSWORD ?? (process.stdin.isTTY ? await promptHidden('Password: ') : undefined);
  if (password === undefined) {
    throw new UsageError(`a password is required for --username ${flags.username}`, {
      hint: 'pipe it in with --password-stdin, or set CHARTPROV_PASSWORD',
    });
  }
  return { username: flags.username, password };
}
