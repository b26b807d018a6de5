/**
 * `chartprov serve`: the embedded registry on checked settings. The data
 * folder is created private (0700); the server locks it for as long as it
 * runs (startRegistry does), so a `chartprov serve gc` cannot delete the
 * blobs of a push in progress and a second server cannot share the folder.
 */
import { mkdir, stat } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { ChartprovError, FileWriteError, ServeConfigError } from '../errors.js';
import { readSmallFile } from '../fs/read-file.js';
import { startRegistry, type RunningRegistry } from '../registry/server.js';
import type { ServeSettings } from './serve-config.js';

export interface StartRegistryServerOptions {
  settings: ServeSettings;
  /** Password of the initial `admin`, used only when the registry has no user yet; generated when absent. */
  adminPassword?: string;
  /** Receives one line per request (when `settings.logRequests`). */
  log?: (line: string) => void;
}

export interface RegistryServer {
  /** `http(s)://host:port`, with the actual port when 0 was asked. */
  url: string;
  /** `host:port` as written in an oci:// reference. */
  host: string;
  port: number;
  dataDir: string;
  tls: boolean;
  /**
   * Set when this start created the first admin; `password` only when it was
   * generated here: the caller shows it once, it is never stored in clear.
   */
  initialAdmin?: { name: string; password?: string };
  /** The given adminPassword was not used: the registry already had users. */
  adminPasswordIgnored: boolean;
  /** Certificate of the token signing key (for another registry's `auth.token.rootcertbundle`). */
  tokenCertificateFile?: string;
  /** Stops accepting connections, closes open ones, releases the data folder's lock. */
  close(): Promise<void>;
}

/** Starts the registry; it holds its data folder's lock until `close()` (REGISTRY_DATA_LOCKED while another process has it). */
export async function startRegistryServer(opts: StartRegistryServerOptions): Promise<RegistryServer> {
  const { settings } = opts;
  const tls = settings.tls ? await readTls(settings.tls) : undefined;
  await ensureDataDir(settings.dataDir);
  let running: RunningRegistry;
  try {
    running = await startRegistry({
      host: settings.host,
      port: settings.port,
      dataDir: settings.dataDir,
      auth: 'harbor',
      ...(opts.adminPassword !== undefined ? { adminPassword: opts.adminPassword } : {}),
      tokens: settings.tokens,
      ...(settings.externalUrl !== undefined ? { externalUrl: settings.externalUrl } : {}),
      ...(tls ? { tls } : {}),
      limits: settings.limits,
      ...(settings.logRequests && opts.log ? { log: opts.log } : {}),
      ...(settings.keyring !== undefined ? { ui: { keyring: settings.keyring } } : {}),
    });
  } catch (err) {
    throw listenError(err, settings);
  }
  let closing: Promise<void> | undefined;
  return {
    url: running.url,
    host: running.host,
    port: running.port,
    dataDir: settings.dataDir,
    tls: tls !== undefined,
    ...(running.initialAdmin ? { initialAdmin: running.initialAdmin } : {}),
    adminPasswordIgnored: opts.adminPassword !== undefined && running.initialAdmin === undefined,
    ...(running.tokenCertificateFile ? { tokenCertificateFile: running.tokenCertificateFile } : {}),
    close: () => (closing ??= running.close()),
  };
}

/** Creates the data folder (and missing parents) mode 0700; an existing one is left as it is. */
async function ensureDataDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st?.isDirectory()) return;
  if (st) throw new ServeConfigError(`the registry data path ${dir} is not a folder`, { hint: 'give another --data folder' });
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new FileWriteError(dir, { hint: 'check that the parent folder is writable, or give another --data', cause });
  }
}

async function readTls(files: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const cert = await readSmallFile(files.certFile, { what: 'TLS certificate', maxBytes: 1 << 20 });
  const key = await readSmallFile(files.keyFile, { what: 'TLS key', maxBytes: 1 << 20 });
  try {
    // The same check node:https makes, here, so a bad pair is a clear error before the server starts.
    createSecureContext({ cert, key });
  } catch (cause) {
    throw new ServeConfigError(
      `the TLS certificate ${files.certFile} and key ${files.keyFile} cannot be used: ${(cause as Error).message}`,
      {
        hint: 'give a PEM certificate (chain) and the PEM private key that belongs to it',
        cause,
      },
    );
  }
  return { cert, key };
}

function listenError(err: unknown, settings: ServeSettings): unknown {
  if (err instanceof ChartprovError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const addr = `${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
  const why: Record<string, string> = {
    EADDRINUSE: 'the address is already in use',
    EACCES: 'permission denied (ports below 1024 need privileges)',
    EADDRNOTAVAIL: 'no interface of this machine has that address',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name does not resolve',
  };
  if (code && why[code])
    return new ServeConfigError(`cannot listen on ${addr}: ${why[code]}`, {
      hint: 'choose another --addr (HOST:PORT; port 0 picks a free one)',
      cause: err,
    });
  return err;
}
