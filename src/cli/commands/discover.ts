import { discover, type DiscoveredReferrer, type DiscoverResult, type ProvenanceCheck } from '../../flows/discover.js';
import { printJson, println } from '../output.js';
import type { OutputFormat } from '../output.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';

interface DiscoverFlags extends RegistryFlags {
  version?: string;
  keyring?: string[];
  artifactType?: string;
  output: OutputFormat;
}

/** Exit 0 whatever the provenances' statuses: discover reports, `verify`/`pull --verify` decide. */
export async function discoverCommand(reference: string, flags: DiscoverFlags): Promise<number> {
  const result = await discover({
    ...registryOptionsFromFlags(flags),
    reference,
    version: flags.version,
    keyrings: flags.keyring,
    artifactType: flags.artifactType,
  });
  if (flags.output === 'json') printJson(result);
  else if (process.stdout.isTTY) printTree(result);
  else printRecords(result);
  return 0;
}

// ---- a tree on a terminal, grouped by artifactType as `oras discover` does

interface Node {
  label: string;
  children: Node[];
}

function printTree(r: DiscoverResult): void {
  const mode = r.mode === 'api' ? 'referrers API' : 'fallback tag';
  const root: Node = {
    label: `${r.chart.reference.replace(/^oci:\/\//, '')}@${r.chart.digest} (${r.chart.name} ${r.chart.version}; ${mode})`,
    children: [],
  };
  if (r.provenanceLayer) {
    root.children.push({
      label: `provenance layer ${r.provenanceLayer.digest}  ${statusText(r.provenanceLayer.provenance)}`,
      children: [],
    });
  }
  root.children.push(...byType(r.referrers));
  if (root.children.length === 0) root.children.push({ label: '(nothing attached)', children: [] });
  println(root.label);
  printChildren(root.children, '');
}

function byType(referrers: DiscoveredReferrer[]): Node[] {
  const groups = new Map<string, Node>();
  for (const ref of referrers) {
    const type = ref.artifactType ?? '(no artifactType)';
    let group = groups.get(type);
    if (!group) groups.set(type, (group = { label: `${type} (${ref.kind})`, children: [] }));
    group.children.push({
      label: ref.provenance ? `${ref.digest}  ${statusText(ref.provenance)}` : ref.digest,
      children: byType(ref.referrers ?? []),
    });
  }
  return [...groups.values()];
}

function printChildren(nodes: Node[], indent: string): void {
  nodes.forEach((node, i) => {
    const last = i === nodes.length - 1;
    println(`${indent}${last ? '└── ' : '├── '}${node.label}`);
    printChildren(node.children, `${indent}${last ? '    ' : '│   '}`);
  });
}

function statusText(p: ProvenanceCheck): string {
  const key = p.signer ? `key ${p.signer.keyId}` : 'an unreadable signature';
  switch (p.status) {
    case 'valid':
      return `valid, signed by ${p.signer?.userId} (${p.signer?.fingerprint})`;
    case 'unknown-key':
      return `unknown key: signed by ${key}, which is not in the keyring`;
    case 'unchecked':
      return `not checked (no --keyring): signed by ${key}`;
    case 'invalid':
      return `invalid [${p.reason}]: ${(p.message ?? '').split('\n')[0]}`;
  }
}

// ---- tab-separated records when piped: one line per item, for grep and awk

function printRecords(r: DiscoverResult): void {
  println(row('chart', r.chart.digest, r.chart.reference, r.chart.name, r.chart.version, r.mode));
  const p = r.provenanceLayer;
  if (p) println(row('layer', p.digest, r.chart.digest, 'provenance', p.mediaType, ...provenanceColumns(p.provenance)));
  const walk = (list: DiscoveredReferrer[], subject: string): void => {
    for (const ref of list) {
      const cols = ref.provenance ? provenanceColumns(ref.provenance) : ['-', '-', '-'];
      println(row('referrer', ref.digest, subject, ref.kind, ref.artifactType ?? '-', ...cols));
      walk(ref.referrers ?? [], ref.digest);
    }
  };
  walk(r.referrers, r.chart.digest);
}

/** status, signer (user id when verified, else key:<id>), reason code. */
function provenanceColumns(p: ProvenanceCheck): [string, string, string] {
  const signer = p.signer?.userId ?? (p.signer ? `key:${p.signer.keyId}` : '-');
  return [p.status, signer, p.reason ?? '-'];
}

function row(...cols: string[]): string {
  return cols.map((c) => c.replace(/[\t\n]/g, ' ')).join('\t');
}
