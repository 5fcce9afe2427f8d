// The pipeline plumbing the search and retrain loops use: configs, run directories, checkpoints,
// metrics and progress. (The loops themselves live beside these files.)
export * from './checkpoint.js';
export * from './config.js';
export * from './config-help.js';
export * from './config-load.js';
export * from './metrics.js';
export * from './presets.js';
export * from './progress.js';
export * from './run-dir.js';
export * from './run-types.js';
