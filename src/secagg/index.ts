export * from './types.js';
export * from './fixed-point.js';
export * from './graph.js';
export { SecAggClient } from './client.js';
export { SecAggServer } from './server.js';
export { SecureSum } from './secure-sum.js';
