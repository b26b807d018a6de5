// The embedded registry's web UI, and the pieces usable without HTTP.
export { createWebUi, isUiPath } from './router.js';
export type { WebUi, WebUiOptions } from './router.js';
export { storedChartSignatures, NO_KEYRING } from './signatures.js';
export type {
  StoredChartSignatures,
  StoredChartSignaturesOptions,
  StoredSignature,
  StoredSignatureSource,
  StoredSignatureStatus,
} from './signatures.js';
export { SessionStore, DEFAULT_SESSION_LIMITS } from './session.js';
export type { SessionLimits } from './session.js';
export { html, raw, escapeHtml, safeHref, uiPath, SafeHtml } from './html.js';
