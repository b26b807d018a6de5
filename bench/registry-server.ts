// The embedded registry in a process of its own, for bench/registry.ts: the
// load generator and the server then use separate CPUs as they do against
// docker-registry. Prints one JSON line { url, host, port, pid } once
// listening; SIGTERM/SIGINT close the server and exit 0 (so that a
// `node --cpu-prof` run writes its profile).
//
//   node dist/bench/registry-server.js DATA_DIR
import { startRegistry } from '../src/registry/server.js';

async function main(dataDir: string | undefined): Promise<void> {
  if (!dataDir) throw new Error('usage: registry-server DATA_DIR');
  // The lead is adding auth to startRegistry; a variable (not a literal) keeps
  // this compiling before and after, and asks for no auth either way.
  const opts = { dataDir, auth: 'none' as const };
  const registry = await startRegistry(opts);
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
  process.stdout.write(`${JSON.stringify({ url: registry.url, host: registry.host, port: registry.port, pid: process.pid })}\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`registry-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
