/**
 * The trust policy file's JSON schema (draft 2020-12). The validator is built
 * from this very object, so the documented schema (docs/trust-policy.schema.json,
 * kept equal by a test) and what is accepted cannot differ.
 */

const HEX_ID = '^(0[xX])?([0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$';
const NAME = '^[A-Za-z][A-Za-z0-9_.-]*$';
const DURATION = '^[1-9][0-9]*(s|m|h|d|w|y)$';

const requirementProperties = {
  signers: {
    description:
      'Who may sign: names from `keyrings` (every key in that keyring) and key ids (16 hex) or fingerprints (40 hex). Absent: the defaults\' signers; absent there too: any key in the keyrings given.',
    type: 'array',
    items: { type: 'string', anyOf: [{ pattern: NAME }, { pattern: HEX_ID }] },
    minItems: 1,
    uniqueItems: true,
  },
  requireSigners: {
    description: 'How many distinct signers (primary keys) must have valid signatures. Default 1.',
    type: 'integer',
    minimum: 1,
    maximum: 100,
  },
  allowUnsigned: {
    description:
      'Whether a chart with no signature (or none by an allowed signer) passes. Default false. A signature that shows tampering (CHART_TAMPERED, SIGNATURE_INVALID) fails even then.',
    type: 'boolean',
  },
  maxSignatureAge: {
    description: 'Signatures older than this do not count: a number and a unit, s m h d w y (y = 365 d), e.g. 90d.',
    type: 'string',
    pattern: DURATION,
  },
} as const;

export const TRUST_POLICY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://chartprov.dev/schemas/trust-policy.v1.json',
  title: 'chartprov trust policy',
  description:
    'Which keys may sign which chart repositories, how many signers a chart needs, whether unsigned charts pass and how old a signature may be. Used by chartprov verify, pull --verify, audit and mirror with --policy FILE.',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    version: { description: 'Format version: 1.', const: 1 },
    keyrings: {
      description: 'Named keyrings (any format gpg writes), paths relative to the policy file.',
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: { type: 'string', minLength: 1 },
    },
    defaults: {
      description: 'What applies to repositories no rule matches.',
      type: 'object',
      additionalProperties: false,
      properties: requirementProperties,
    },
    rules: {
      description: 'Checked in order; the first rule with a pattern matching the repository applies.',
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['repositories'],
        properties: {
          repositories: {
            description:
              'Glob patterns matched against `host/path/name` and `path/name` of an OCI repository (a local chart: its name): `*` within a path segment, `**` across segments.',
            type: 'array',
            items: { type: 'string', minLength: 1 },
            minItems: 1,
          },
          ...requirementProperties,
        },
      },
    },
  },
} as const;
