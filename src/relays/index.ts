export { Relay, createTarget, startRelay } from './relay.js';
export type { RelayInfo, RelayTarget } from './relay.js';
export type { RelayFormat, RelayOptions, RelayState } from './types.js';
