// Keyrings (every format gpg and Helm use), key selection, description and generation.
export { defaultKeyringPaths, loadKeyring, parseKeyringData, readSigningKeyFromText } from './keyring.js';
export type { Keyring } from './keyring.js';
export { isKeybox, keyblocksFromKeybox } from './kbx.js';
export { keygripOf, keygripsOf } from './keygrip.js';
export { isKeyEncrypted, selectSigningKey, unlockKey } from './select.js';
export type { SigningKey } from './select.js';
export { algorithmName, describeKey, formatUserId, isHelm3Compatible, primaryUserId } from './describe.js';
export type { KeyInfo } from './describe.js';
export { exportKeys, generateKeyPair } from './generate.js';
export type { ExportKeysOptions, GeneratedKeyPair, GenerateKeyPairOptions } from './generate.js';
export { keyLabel, matchKeys } from './match.js';
export type { KeyMatch } from './match.js';
export { assertKeyUsable } from './usable.js';
export type { KeyPurpose, KeyUsableOptions } from './usable.js';
