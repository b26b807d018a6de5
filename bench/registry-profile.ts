// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. the embedded
// server under BENCH_REGISTRY_CPU_PROF=DIR node dist/bench/registry.js):
// the functions with the most self time and the most inclusive time, as
// percentages of the non-idle samples.
//
//   node dist/bench/registry-profile.js FILE.cpuprofile [TOP=25]
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const IDLE = new Set(['(idle)']);

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  if (!url) return functionName || '(anonymous)';
  let file = url;
  try {
    file = url.startsWith('file:') ? relative(process.cwd(), fileURLToPath(url)) : url;
  } catch {
    // keep the URL
  }
  file = file.replace(/^.*\/dist\//, 'dist/').replace(/^.*\/node_modules\//, 'node_modules/');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

export function summarise(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id)!;
    if (IDLE.has(node.callFrame.functionName)) {
      idle += dt;
      return;
    }
    busy += dt;
    const l = label(node);
    self.set(l, (self.get(l) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = label(byId.get(cur)!);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + dt);
    }
  });
  const lines = [`busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms (percentages below: of busy)`];
  const table = (title: string, m: Map<string, number>) => {
    lines.push(`\n${title}`);
    for (const [name, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      lines.push(`${((100 * us) / busy).toFixed(1).padStart(6)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  };
  table('self time', self);
  table('inclusive time', total);
  return lines.join('\n');
}

async function main(file: string | undefined, top: string | undefined): Promise<void> {
  if (!file) throw new Error('usage: registry-profile FILE.cpuprofile [TOP]');
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  console.log(summarise(profile, Number(top ?? 25)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv[2], process.argv[3]);
