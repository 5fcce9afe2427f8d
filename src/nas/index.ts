// The search spaces, networks and genotypes of DARTS, PC-DARTS and P-DARTS.
export * from './alphas.js';
export * from './arch.js';
export * from './aux-heads.js';
export * from './derive.js';
export * from './eval-cell.js';
export * from './eval-network.js';
export * from './genotype.js';
export * from './genotype-dot.js';
export * from './mixed-op.js';
export * from './module-list.js';
export * from './operations.js';
export * from './p-darts.js';
export * from './pc-darts.js';
export * from './primitives.js';
export * from './search-cell.js';
export * from './supernet.js';
