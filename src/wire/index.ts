/** Public API of the wire format (see types.ts for the byte layout). */
export * from './types.js';
export { decodeMessage, encodeMessage } from './codec.js';
export { decodeModel, decodeState, decodeUpdate, encodeModel, encodeState, encodeUpdate, ROWS_SECTION } from './messages.js';
