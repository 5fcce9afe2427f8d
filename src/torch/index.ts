// The tensor engine: libtorch through our Node-API addon.
import { initRuntime } from './runtime.js';

initRuntime();

export * from './tensor.js';
export * from './creation.js';
export * from './ops.js';
import './methods.js'; // installs the method forms (x.add(y), ...) on Tensor
export * from './autograd.js';
export * from './runtime.js';
export * from './device.js';
export * from './safetensors.js';
export * from './gradcheck.js';
export * from './errors.js';
export * from './profile.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
