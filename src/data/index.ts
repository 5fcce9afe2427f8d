// Datasets, splits, augmentation and batching. A run needs loadData, openStream,
// the Batch it yields, and the splits/state it saves; the rest is exported for tools and tests.
export * from './errors.js';
export * from './rng.js';
export * from './source.js';
export { CIFAR_LAYOUT, type CifarName, loadCifar, locateCifar, parseCifar } from './cifar.js';
export { FASHION_MNIST_DIR, type IdxName, idxDir, loadIdxDataset, parseIdx } from './idx.js';
export {
  decodeImage,
  folderLayout,
  IMAGENET_MEAN,
  IMAGENET_STD,
  folderInput,
  loadFolderDataset,
  loadImageFolders,
  probeImage,
  scanFolder,
  scanImages,
  SMALL_IMAGE_MAX,
  styleForSize,
} from './folder.js';
export { type ImageHeader, toChannels } from './image-file.js';
export * from './stats.js';
export * from './unlabeled.js';
export * from './augment.js';
export * from './resize.js';
export * from './transforms.js';
export * from './splits.js';
export * from './stream.js';
export { DecodePool, sharedDecodePool } from './decode-pool.js';
export * from './synthetic.js';
export * from './load.js';
export * from './inspect.js';
