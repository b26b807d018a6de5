// Files under a folder over HTTP on 127.0.0.1, as a classic chart repository
// (index.yaml, archives, .prov files) is served; every request is recorded.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface ServedRequest {
  method: string;
  path: string;
  authorized: boolean;
  authorization?: string;
}

export interface FolderServer {
  url: string;
  requests: ServedRequest[];
  close(): Promise<void>;
}

/** With `auth`, Basic credentials are required for everything (401 with a Basic challenge otherwise). */
export async function serveFolder(root: string, auth?: { username: string; password: string }): Promise<FolderServer> {
  const requests: ServedRequest[] = [];
  const expected = auth && `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    const authorized = !expected || req.headers.authorization === expected;
    const { authorization } = req.headers;
    requests.push({ method: req.method ?? 'GET', path, authorized, ...(authorization === undefined ? {} : { authorization }) });
    if (!authorized) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="charts"' }).end('unauthorized');
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) return void res.writeHead(400).end();
    readFile(file).then(
      (data) => res.writeHead(200, { 'content-length': data.length }).end(data),
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
