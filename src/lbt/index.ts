export * from './types.js';
export * from './unroll.js';
export * from './hypergradient.js';
export * from './architect.js';
export * from './weight-steps.js';
export * from './objective.js';
export * from './adapters.js';
export * from './check.js';
