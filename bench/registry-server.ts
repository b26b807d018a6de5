// The embedded registry in a process of its own, for bench/registry.ts: the
// load generator and the server then use separate CPUs as they do against
// docker-registry. Prints one JSON line { url, host, port, pid } once
// listening; SIGTERM/SIGINT close the server and exit 0 (so that a
// `node --cpu-prof` run writes its profile).
//
//   node dist/bench/registry-server.js DATA_DIR harbor|none
import { startRegistry } from '../src/registry/server.js';

// Repositories the benchmark uses, all in project `bench`.
const BENCH_REPOS = ['bench/warm', 'bench/chart', 'bench/big', ...Array.from({ length: 50 }, (_, i) => `bench/blob-${i + 1}`)];

async function main(dataDir: string | undefined, auth: string | undefined): Promise<void> {
  if (!dataDir || (auth !== 'harbor' && auth !== 'none')) throw new Error('usage: registry-server DATA_DIR harbor|none');
  const registry = await startRegistry({ dataDir, auth });
  let authorization: string | undefined;
  if (registry.access) {
    // A private project and an admin's bearer token: every request pays the
    // token check and the access decision, as a real client's would.
    await registry.access.accounts.createProject({ name: 'bench' });
    const issued = await registry.access.issueToken(
      { kind: 'user', name: 'admin', admin: true },
      BENCH_REPOS.map((name) => ({ type: 'repository', name, actions: ['pull', 'push'] })),
    );
    authorization = `Bearer ${issued.token}`;
  }
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    registry.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`registry-server: close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ url: registry.url, host: registry.host, port: registry.port, pid: process.pid, authorization })}\n`);
}

main(process.argv[2], process.argv[3]).catch((err: unknown) => {
  process.stderr.write(`registry-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
