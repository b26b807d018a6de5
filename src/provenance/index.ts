// The .prov format: build the signed message, sign, parse, verify. Pure: takes
// strings, bytes and parsed keys, returns values; callers do the file I/O.
// The metadata block is Helm's Chart.yaml marshalling, owned by the chart
// module; re-exported here under the names this module has always used.
export { marshalMetadata as marshalChartMetadata, sanitizeString } from '../chart/metadata-encode.js';
export { buildProvenanceMessage, normalizeSha256 } from './message.js';
export { DEFAULT_MAX_PROV_BYTES, parseProvenance } from './parse.js';
export type { ParsedProvenance, ParseProvenanceOptions } from './parse.js';
export { signProvenance, signProvenanceText } from './sign.js';
export type { SignProvenanceOptions, SignTextOptions } from './sign.js';
export { checkProvenanceMatches, claimedSigner, verifyProvenance, verifyProvenanceBatch } from './verify.js';
export type { BatchResult, ProvenanceVerification, SignerInfo, VerifyProvenanceOptions } from './verify.js';
