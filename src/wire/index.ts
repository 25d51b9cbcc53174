/** Public API of the wire format (see types.ts for the byte layout). */
export * from './types.js';
export { decodeMessage, encodeMessage } from './codec.js';
export { decodeModel, decodeUpdate, encodeModel, encodeUpdate, ROWS_SECTION } from './messages.js';
