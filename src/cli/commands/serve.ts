import { checkPassword } from '../../registry/auth/names.js';
import { PasswordPolicyError } from '../../errors.js';
import { readAdminPassword, resolveServeSettings, serveWarnings, type ServeFlags } from '../../flows/serve-config.js';
import { startRegistryServer, type RegistryServer } from '../../flows/serve-server.js';
import type { OutputFormat } from '../output.js';
import { readStdin } from '../passphrase.js';

interface ServeCommandFlags extends ServeFlags {
  adminPasswordFile?: string;
  output?: OutputFormat;
}

/** `chartprov serve`: runs the registry until SIGINT or SIGTERM, then closes it and exits 0. */
export async function serveCommand(flags: ServeCommandFlags): Promise<number> {
  const json = flags.output === 'json';
  // stdout carries the URL and the ready line only; everything else (warnings, requests) goes to stderr.
  const err = (text: string, fields: Record<string, unknown>) =>
    process.stderr.write(json ? `${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n` : `${text}\n`);

  const settings = await resolveServeSettings({ flags });
  for (const message of serveWarnings(settings)) err(`warning: ${message}`, { level: 'warning', message });
  const from = flags.adminPasswordFile !== undefined ? '--admin-password-file' : 'CHARTPROV_ADMIN_PASSWORD';
  const adminPassword = await readAdminPassword({ file: flags.adminPasswordFile, stdin: readStdin });
  if (adminPassword !== undefined) {
    try {
      checkPassword(adminPassword);
    } catch (e) {
      if (e instanceof PasswordPolicyError)
        throw new PasswordPolicyError(`the admin password from ${from} ${e.message.replace(/^the password /, '')}`);
      throw e;
    }
  }
  const log = (line: string) => {
    const m = /^(\S+) (\S+) (\d{3}) ([\d.]+)ms$/.exec(line);
    const fields = m ? { method: m[1], path: m[2], status: Number(m[3]), ms: Number(m[4]) } : { line };
    err(`${new Date().toISOString()} ${line}`, { event: 'request', ...fields });
  };

  const server = await startRegistryServer({ settings, ...(adminPassword !== undefined ? { adminPassword } : {}), log });
  const stopped = waitForStopSignal();
  announceAdmin(server, { json, from, err });
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        event: 'ready',
        url: server.url,
        host: server.host,
        port: server.port,
        tls: server.tls,
        dataDir: server.dataDir,
        ...(server.tokenCertificateFile ? { tokenCertificate: server.tokenCertificateFile } : {}),
      })}\n`,
    );
  } else {
    process.stdout.write(`chartprov registry at ${server.url} (data: ${server.dataDir})\n`);
    process.stdout.write(`ready: ${server.url}\n`);
  }

  const signal = await stopped;
  err(`stopping (${signal})`, { event: 'stopping', signal });
  await server.close();
  err('stopped', { event: 'stopped' });
  return 0;
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once (a stuck close must not trap the user). */
function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      const again = () => process.exit(130);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      resolve(signal);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

/**
 * A generated admin password is shown this once, on stderr, framed so it is
 * not lost among request lines; it is never logged or shown again (only
 * its bcrypt hash is kept).
 */
function announceAdmin(
  server: RegistryServer,
  ctx: { json: boolean; from: string; err: (text: string, fields: Record<string, unknown>) => void },
): void {
  const admin = server.initialAdmin;
  if (admin?.password !== undefined) {
    const rule = '='.repeat(72);
    ctx.err(
      [
        rule,
        'Initial admin account created. Its password is shown ONLY THIS ONCE:',
        '',
        `    user:     ${admin.name}`,
        `    password: ${admin.password}`,
        '',
        `Store it now. Change it with: chartprov serve user passwd ${admin.name} --data ${server.dataDir}`,
        rule,
      ].join('\n'),
      { event: 'initial-admin', user: admin.name, password: admin.password, note: 'shown only this once' },
    );
  } else if (admin) {
    ctx.err(`created the initial admin account ${admin.name} with the password from ${ctx.from}`, {
      event: 'initial-admin',
      user: admin.name,
      passwordFrom: ctx.from,
    });
  } else if (server.adminPasswordIgnored && ctx.from === '--admin-password-file') {
    const message =
      '--admin-password-file ignored: the registry already has users (change a password with chartprov serve user passwd NAME)';
    ctx.err(`warning: ${message}`, { level: 'warning', message });
  }
}
