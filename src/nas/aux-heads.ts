// Auxiliary classifier heads of the evaluation networks (darts-family.md §4).
import * as t from '../torch/index.js';

const { BatchNorm2d, Conv2d, Linear, ReLU, Sequential } = t.nn;

/**
 * ReLU → AvgPool(5, stride) → Conv1x1(→128) → BN → ReLU → Conv2x2(→768) → [BN] → ReLU, then Linear.
 * The reference expects an 8x8 (CIFAR) or 7x7 (ImageNet) map, pooled to 2x2. Where the pool
 * would give another size (other input sizes such as 28x28, where the reference fails) the map
 * is pooled adaptively to 2x2 instead; parameters are the same either way.
 */
export class AuxiliaryHead extends t.nn.Layer {
  readonly features: t.nn.Sequential;
  readonly classifier: t.nn.Linear;
  constructor(
    C: number,
    numClasses: number,
    readonly poolStride: number,
    bnAfter768: boolean,
  ) {
    super();
    const layers = [
      new Conv2d(C, 128, 1, { bias: false }),
      new BatchNorm2d(128),
      new ReLU(),
      new Conv2d(128, 768, 2, { bias: false }),
      ...(bnAfter768 ? [new BatchNorm2d(768)] : []),
      new ReLU(),
    ];
    this.features = this.registerModule('features', new Sequential(...layers));
    this.classifier = this.registerModule('classifier', new Linear(768, numClasses));
  }
  forward(x: t.Tensor): t.Tensor {
    return t.scope(() => {
      const r = t.relu(x);
      const pooledSize = Math.floor((Math.min(r.size(2), r.size(3)) - 5) / this.poolStride) + 1;
      const pooled =
        pooledSize === 2 ? t.avgPool2d(r, 5, { stride: this.poolStride, countIncludePad: false }) : t.adaptiveAvgPool2d(r, 2);
      return this.classifier.forward(t.flatten(this.features.forward(pooled), 1));
    });
  }
}

/** CIFAR head: pool stride 3 (8x8 → 2x2), BN after both convs. 476,426 params at C=576, 10 classes. */
export function auxiliaryHeadCIFAR(C: number, numClasses: number): AuxiliaryHead {
  return new AuxiliaryHead(C, numClasses, 3, true);
}

/** ImageNet head: pool stride 2 (7x7 → 2x2); BN(768) only in P-DARTS (DARTS/PC-DARTS omit it). */
export function auxiliaryHeadImageNet(C: number, numClasses: number, bnAfter768 = false): AuxiliaryHead {
  return new AuxiliaryHead(C, numClasses, 2, bnAfter768);
}
