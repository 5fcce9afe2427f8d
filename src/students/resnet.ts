// ResNet-18 / ResNet-50 for CIFAR-sized inputs (kuangliu/pytorch-cifar layout, darts-family.md §7):
// a 3x3 stem without max-pool, four stages of planes 64/128/256/512 at strides 1/2/2/2, global
// average pooling (equal to avg_pool(4) on 32x32) and a linear head. All convs are bias-free.
import * as t from '../torch/index.js';

const { BatchNorm2d, Conv2d, Linear, Sequential } = t.nn;

/** Conv1x1(stride) + BN when the shape changes, identity otherwise. */
function shortcut(cIn: number, cOut: number, stride: number): t.nn.Sequential {
  if (stride === 1 && cIn === cOut) return new Sequential();
  return new Sequential(new Conv2d(cIn, cOut, 1, { stride, bias: false }), new BatchNorm2d(cOut));
}

export class BasicBlock extends t.nn.Layer {
  static readonly expansion = 1;
  readonly conv1: t.nn.Conv2d;
  readonly bn1: t.nn.BatchNorm2d;
  readonly conv2: t.nn.Conv2d;
  readonly bn2: t.nn.BatchNorm2d;
  readonly shortcut: t.nn.Sequential;
  constructor(cIn: number, planes: number, stride: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(cIn, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.shortcut = this.registerModule('shortcut', shortcut(cIn, planes, stride));
  }
  forward(x: t.Tensor): t.Tensor {
    return t.scope(() => {
      const h = t.relu(this.bn1.forward(this.conv1.forward(x)));
      return t.relu(t.add(this.bn2.forward(this.conv2.forward(h)), this.shortcut.forward(x)));
    });
  }
}

export class Bottleneck extends t.nn.Layer {
  static readonly expansion = 4;
  readonly conv1: t.nn.Conv2d;
  readonly bn1: t.nn.BatchNorm2d;
  readonly conv2: t.nn.Conv2d;
  readonly bn2: t.nn.BatchNorm2d;
  readonly conv3: t.nn.Conv2d;
  readonly bn3: t.nn.BatchNorm2d;
  readonly shortcut: t.nn.Sequential;
  constructor(cIn: number, planes: number, stride: number) {
    super();
    const cOut = 4 * planes;
    this.conv1 = this.registerModule('conv1', new Conv2d(cIn, planes, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', new Conv2d(planes, cOut, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(cOut));
    this.shortcut = this.registerModule('shortcut', shortcut(cIn, cOut, stride));
  }
  forward(x: t.Tensor): t.Tensor {
    return t.scope(() => {
      const h1 = t.relu(this.bn1.forward(this.conv1.forward(x)));
      const h2 = t.relu(this.bn2.forward(this.conv2.forward(h1)));
      return t.relu(t.add(this.bn3.forward(this.conv3.forward(h2)), this.shortcut.forward(x)));
    });
  }
}

export interface ResNetOptions {
  numClasses?: number;
  inChannels?: number;
  /** Scales the stage widths 64/128/256/512 (rounded, at least 1). */
  width?: number;
  /** Blocks per stage (default [2,2,2,2] for ResNet-18, [3,4,6,3] for ResNet-50). */
  blocks?: readonly [number, number, number, number];
}

export class ResNet extends t.nn.Layer {
  readonly conv1: t.nn.Conv2d;
  readonly bn1: t.nn.BatchNorm2d;
  readonly layer1: t.nn.Sequential;
  readonly layer2: t.nn.Sequential;
  readonly layer3: t.nn.Sequential;
  readonly layer4: t.nn.Sequential;
  readonly linear: t.nn.Linear;

  constructor(block: 'basic' | 'bottleneck', blocks: readonly [number, number, number, number], o: ResNetOptions = {}) {
    super();
    const Block = block === 'basic' ? BasicBlock : Bottleneck;
    const width = o.width ?? 1;
    if (!(width > 0)) throw new RangeError(`ResNet: width must be positive, got ${width}`);
    const planes = [64, 128, 256, 512].map((p) => Math.max(1, Math.round(p * width)));
    let cIn = planes[0] as number;
    this.conv1 = this.registerModule('conv1', new Conv2d(o.inChannels ?? 3, cIn, 3, { padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(cIn));
    const stage = (p: number, n: number, stride: number) => {
      const layers: t.nn.Layer[] = [];
      for (let i = 0; i < n; i++) {
        layers.push(new Block(cIn, p, i === 0 ? stride : 1));
        cIn = p * Block.expansion;
      }
      return new Sequential(...layers);
    };
    this.layer1 = this.registerModule('layer1', stage(planes[0] as number, blocks[0], 1));
    this.layer2 = this.registerModule('layer2', stage(planes[1] as number, blocks[1], 2));
    this.layer3 = this.registerModule('layer3', stage(planes[2] as number, blocks[2], 2));
    this.layer4 = this.registerModule('layer4', stage(planes[3] as number, blocks[3], 2));
    this.linear = this.registerModule('linear', new Linear(cIn, o.numClasses ?? 10));
  }

  forward(x: t.Tensor): t.Tensor {
    return t.scope(() => {
      let h = t.relu(this.bn1.forward(this.conv1.forward(x)));
      for (const l of [this.layer1, this.layer2, this.layer3, this.layer4]) h = l.forward(h);
      return this.linear.forward(t.flatten(t.adaptiveAvgPool2d(h, 1), 1));
    });
  }
}

/** ResNet-18: BasicBlock [2,2,2,2]; 11,173,962 parameters with 10 classes. */
export function resnet18(o: ResNetOptions = {}): ResNet {
  return new ResNet('basic', o.blocks ?? [2, 2, 2, 2], o);
}

/** ResNet-50: Bottleneck [3,4,6,3]; 23,520,842 parameters with 10 classes. */
export function resnet50(o: ResNetOptions = {}): ResNet {
  return new ResNet('bottleneck', o.blocks ?? [3, 4, 6, 3], o);
}
