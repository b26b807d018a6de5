/**
 * Reads a trust policy's text into a TrustPolicy: YAML (or JSON), checked
 * against TRUST_POLICY_SCHEMA, durations turned into milliseconds. Pure: the
 * keyrings it names are loaded by flows/trust-policy.ts.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { TrustPolicyInvalidError } from '../errors.js';
import { TRUST_POLICY_SCHEMA } from './schema.js';
import type { TrustPolicy, TrustRule } from './types.js';

interface RawRequirement {
  signers?: string[];
  requireSigners?: number;
  allowUnsigned?: boolean;
  maxSignatureAge?: string;
}

interface RawPolicy {
  version: 1;
  keyrings?: Record<string, string>;
  defaults?: RawRequirement;
  rules?: Array<RawRequirement & { repositories: string[] }>;
}

let validator: ReturnType<Ajv2020['compile']> | undefined;

function validate(doc: unknown): ErrorObject[] {
  // Compiled on first use: a command without --policy never pays for it.
  validator ??= new Ajv2020({ allErrors: false, strict: true }).compile(TRUST_POLICY_SCHEMA);
  return validator(doc) ? [] : (validator.errors ?? []);
}

export function parseTrustPolicy(text: string, opts: { source: string }): TrustPolicy {
  const source = opts.source;
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new TrustPolicyInvalidError(`${source} is not YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) throw new TrustPolicyInvalidError(`${source} is empty`);
  const problems = validate(value);
  // Under anyOf, ajv lists each branch's failure first: the anyOf itself says it best.
  const problem = problems.find((e) => e.keyword === 'anyOf') ?? problems[0];
  if (problem) throw new TrustPolicyInvalidError(`${source}: ${describe(problem)}`);
  const raw = value as RawPolicy;
  const keyrings = raw.keyrings ?? {};
  const policy: TrustPolicy = {
    source,
    keyrings,
    defaults: requirement(raw.defaults ?? {}),
    rules: (raw.rules ?? []).map((r, i): TrustRule => ({ name: `rules[${i}]`, repositories: r.repositories, ...requirement(r) })),
  };
  for (const [where, signers] of [
    ['defaults', policy.defaults.signers] as const,
    ...policy.rules.map((r) => [r.name, r.signers] as const),
  ]) {
    for (const s of signers ?? []) {
      if (!isHexId(s) && !Object.hasOwn(keyrings, s)) {
        throw new TrustPolicyInvalidError(`${source}: ${where}.signers names ${JSON.stringify(s)}, which is neither a keyring under keyrings: nor a key id (16 hex) or fingerprint (40 hex)`, {
          hint: 'add it under keyrings: NAME: path/to/pubring.gpg, or give a 16-hex key id or 40-hex fingerprint',
        });
      }
    }
  }
  return policy;
}

/** A key id (16 hex) or fingerprint (40 hex), optionally with 0x. */
export function isHexId(text: string): boolean {
  return /^(0[xX])?([0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$/.test(text);
}

function requirement(r: RawRequirement): Omit<TrustRule, 'name' | 'repositories'> {
  const out: Omit<TrustRule, 'name' | 'repositories'> = {};
  if (r.signers) out.signers = r.signers;
  if (r.requireSigners !== undefined) out.requireSigners = r.requireSigners;
  if (r.allowUnsigned !== undefined) out.allowUnsigned = r.allowUnsigned;
  if (r.maxSignatureAge !== undefined) out.maxSignatureAgeMs = durationMs(r.maxSignatureAge);
  return out;
}

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86_400e3, w: 7 * 86_400e3, y: 365 * 86_400e3 };

/** `90d` → milliseconds (the schema has checked the form). */
export function durationMs(text: string): number {
  const m = /^(\d+)([smhdwy])$/.exec(text)!;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** An ajv error as one line a person can act on: where in the file, and what is wrong. */
function describe(e: ErrorObject): string {
  const at = e.instancePath === '' ? 'the top level' : e.instancePath.slice(1).replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown key ${JSON.stringify(p.additionalProperty)} in ${at}`;
    case 'required':
      return `${at} needs ${JSON.stringify(p.missingProperty)}`;
    case 'const':
      return `${at} must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return at.endsWith('maxSignatureAge') ? `${at} must be a number and a unit (s, m, h, d, w, y), e.g. 90d` : `${at} ${e.message}`;
    case 'anyOf':
      return `${at} must be a keyring name or a key id (16 hex) / fingerprint (40 hex)`;
    case 'propertyNames':
      return `a keyring name in ${at} must start with a letter and hold only letters, digits and . _ -`;
    default:
      return `${at} ${e.message ?? 'is not valid'}`;
  }
}
