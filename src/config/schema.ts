// The search and retrain configs: one strict, defaulted zod schema each; the type is z.infer.
// Defaults are the reference values (shared/reference/darts-family.md §3-§8, paper §4.2).
// Layering, lowest first: schema defaults < METHOD_DEFAULTS[method] (search) or DATASET_DEFAULTS
// [dataset] (retrain) < preset < config file < --scale overlay < --set. See config-load.ts.
import { z } from 'zod';

const posInt = () => z.number().int().positive();
const nonNegInt = () => z.number().int().nonnegative();
const lr = () => z.number().nonnegative();
/** A subset size: null = the default split, an integer >= 1 = that many examples, 0 < x < 1 = that fraction. */
const subsetSize = () =>
  z
    .number()
    .positive()
    .refine((v) => v < 1 || Number.isInteger(v), 'a subset size is an integer count or a fraction in (0, 1)')
    .nullable();

export const DATASETS = ['cifar10', 'cifar100', 'fashion-mnist', 'imagenet', 'folder'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const METHODS = ['darts', 'pc-darts', 'p-darts'] as const;
export type Method = (typeof METHODS)[number];

export const Device = z
  .string()
  .regex(/^(cpu|cuda|cuda:\d+)$/, 'expected "cpu", "cuda" or "cuda:N"')
  .default('cpu')
  .describe('where tensors live: cpu, cuda or cuda:N');

/** Engine switches (they matter on CUDA); each default is the paper's behaviour (fp32 throughout). */
export const EngineSection = z
  .strictObject({
    tf32Matmul: z.boolean().default(false).describe("TF32 tensor cores for float32 matmuls on CUDA (off: the paper's fp32)"),
    tf32Cudnn: z
      .boolean()
      .default(false)
      .describe('TF32 for cuDNN convolutions on CUDA (off: fp32, as on the V100s of the paper)'),
    cudnnBenchmark: z
      .boolean()
      .default(true)
      .describe(
        'cuDNN times its convolution algorithms once per shape and keeps the fastest (as the reference; off when deterministic)',
      ),
    channelsLast: z.boolean().default(true).describe('activations in channels-last (NHWC) memory format'),
    autocast: z
      .enum(['off', 'bf16'])
      .default('off')
      .describe("bf16 autocast of the forward passes (off: the paper's numbers are fp32)"),
  })
  .prefault({})
  .describe('engine switches for GPU runs: TF32, cuDNN autotuning, memory format, autocast');
export type EngineConfig = z.infer<typeof EngineSection>;

const UNLABELED_HELP = 'expected paper, heldout or a folder as {dir: PATH} (--set dataset.unlabeled.dir=PATH)';

/**
 * Where D_u comes from: the paper's rule (CIFAR-10 <-> CIFAR-100 training images; a held-out part of the
 * training set for the other datasets), a held-out part of the training set, or any folder of images.
 */
export const Unlabeled = z
  .union(
    [
      z.enum(['paper', 'heldout']),
      z.strictObject({
        dir: z
          .string()
          .min(1)
          .describe('a folder of JPEG/PNG images, searched at any depth; labels ignored, resized to the input'),
      }),
    ],
    { error: () => UNLABELED_HELP },
  )
  .default('paper')
  .describe(
    'D_u: paper (CIFAR-10 <-> CIFAR-100 images, else a held-out part of train), heldout (a part of the training set), or {dir: FOLDER} (any images)',
  );

export const DatasetFields = z.strictObject({
  name: z
    .enum(DATASETS)
    .default('cifar10')
    .describe('dataset: cifar10, cifar100, fashion-mnist, imagenet, or folder (class folders of your own images)'),
  dir: z
    .string()
    .nullable()
    .default(null)
    .describe('data directory; null = $LBT_DATA, or /usr/share/datasets/fashion-mnist for fashion-mnist'),
  unlabeled: Unlabeled,
  unlabeledDir: z
    .string()
    .nullable()
    .default(null)
    .describe("where the paper rule's other CIFAR lies (D_u of a CIFAR search); null = dir"),
  imageSize: posInt()
    .nullable()
    .default(null)
    .describe(
      "input size of image folders; null = imagenet 224; folder: the images' own size when they share one (imagenet style: its shorter side, <= 224), else 32 or 224",
    ),
  style: z
    .enum(['auto', 'cifar', 'imagenet'])
    .default('auto')
    .describe(
      'cifar (random crop pad 4 + flip, CIFAR stems) or imagenet (random-resized crop + flip, ImageNet stems); auto = cifar up to 64 px',
    ),
  trainSize: subsetSize()
    .default(null)
    .describe(
      'examples in D_tr; null = half the labeled training set (train_portion 0.5; a third when D_u is carved from it), <1 = fraction',
    ),
  valSize: subsetSize().default(null).describe('examples in D_val; null = the other half of the labeled training set'),
  unlabeledSize: subsetSize().default(null).describe('examples in D_u; null = all available'),
  testSize: subsetSize().default(null).describe('examples in the test set; null = the whole test split'),
  testFromTrain: nonNegInt()
    .nullable()
    .default(null)
    .describe(
      'hold out this many training images as the test split (one sample for every seed); search and retrain use the rest (paper §4.4 λ/γ studies: 5000); null = none, or a tenth for a folder dataset without test/ or val/',
    ),
  augment: z.boolean().default(true).describe('random crop (pad 4) and horizontal flip on training batches'),
  cutout: z.boolean().default(false).describe('cutout on training batches (off in search, on in retrain)'),
  cutoutLength: posInt().default(16).describe('cutout square side in pixels'),
});
export const DatasetSection = DatasetFields.prefault({}).describe('data set and splits');
/** `lbt train` has its own cutout keys at the top level, so its dataset section has none. */
/** The dataset keys only a search uses: cutout has its own top-level keys in `lbt train`, and a retrain has no D_u. */
const SEARCH_ONLY_DATASET_KEYS = {
  cutout: true,
  cutoutLength: true,
  unlabeled: true,
  unlabeledDir: true,
  unlabeledSize: true,
} as const;

/** A search's dataset section as an `lbt train` dataset section (search-only keys removed). */
export function trainDatasetFields<T extends Record<string, unknown>>(d: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(d).filter(([k]) => !(k in SEARCH_ONLY_DATASET_KEYS)));
}

export const TrainDatasetSection = DatasetFields.omit(SEARCH_ONLY_DATASET_KEYS)
  .prefault({})
  .describe('data set and splits (trains on D_tr + D_val, tests on the test split)');

/** A search's `retrain.dataset`: another data set for the retrain (Table 4's CIFAR cells on ImageNet); its name is required. */
export const RetrainDatasetSection = DatasetFields.omit(SEARCH_ONLY_DATASET_KEYS)
  .extend({
    name: z
      .enum(DATASETS, { error: (i) => (i.input === undefined ? `required: one of ${DATASETS.join(', ')}` : undefined) })
      .describe('dataset the found cell is trained and tested on'),
  })
  .nullable()
  .default(null)
  .describe(
    "data set of the retrain when not the search's (Table 4: searched on CIFAR, evaluated on ImageNet); null = the search's. " +
      "Its retrain defaults (ImageNet: 14 cells, C=48, ...) apply under a preset's values",
  );

export const StudentSection = z
  .strictObject({
    arch: z.enum(['resnet18', 'resnet50']).default('resnet18').describe('student network (CIFAR ResNet, kuangliu)'),
    width: z.number().positive().default(1).describe('width multiplier on the 64/128/256/512 planes'),
    blocks: z
      .array(posInt())
      .length(4)
      .nullable()
      .default(null)
      .describe('blocks per stage; null = the arch standard ([2,2,2,2] or [3,4,6,3])'),
    lr: lr().default(0.025).describe('student SGD learning rate (LBT-DARTS reference: 0.025, constant)'),
    momentum: z.number().min(0).max(1).default(0.9).describe('student SGD momentum'),
    weightDecay: z.number().nonnegative().default(3e-4).describe('student SGD weight decay'),
    gradClip: z.number().nonnegative().default(0).describe('student global-norm gradient clip; 0 = off'),
    schedule: z.enum(['constant', 'cosine']).default('constant').describe('student lr schedule (cosine: as the weights)'),
  })
  .prefault({})
  .describe('the student of LBT');

export const SupernetSection = z
  .strictObject({
    channels: posInt().default(16).describe('initial channels C'),
    layers: posInt().default(8).describe('cells in the supernet (P-DARTS: pdarts.layers, per stage)'),
    steps: posInt().default(4).describe('intermediate nodes per cell'),
    multiplier: posInt()
      .nullable()
      .default(null)
      .describe('nodes concatenated into a cell output (the last ones, 1..steps); null = all steps'),
    stemMultiplier: posInt().default(3).describe('stem channels = stemMultiplier * C'),
    stem: z
      .enum(['auto', 'cifar', 'imagenet'])
      .default('auto')
      .describe(
        "stem of every space: cifar (conv3x3), imagenet (3 strided convs, as the PC-DARTS ImageNet search), or auto (the data's style)",
      ),
    pcK: posInt().default(4).describe('PC-DARTS partial-channel factor K (ops see C/K channels)'),
  })
  .prefault({})
  .describe('the teacher supernet');

export const WeightsSection = z
  .strictObject({
    lr: lr().default(0.025).describe('weight SGD learning rate (cosine annealed per epoch)'),
    lrMin: lr().default(0.001).describe('cosine floor of the weight lr'),
    momentum: z.number().min(0).max(1).default(0.9).describe('weight SGD momentum'),
    weightDecay: z.number().nonnegative().default(3e-4).describe('weight SGD weight decay'),
    gradClip: z.number().nonnegative().default(5).describe('global-norm gradient clip on the weights; 0 = off'),
    warmupEpochs: nonNegInt().default(0).describe('linear lr warm-up epochs (PC-DARTS ImageNet: 5)'),
  })
  .prefault({})
  .describe('teacher weight optimizer (SGD)');

export const ArchSection = z
  .strictObject({
    lr: lr().default(3e-4).describe('architecture Adam learning rate'),
    betas: z
      .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
      .default([0.5, 0.999])
      .describe('Adam betas'),
    eps: z.number().positive().default(1e-8).describe('Adam epsilon'),
    weightDecay: z.number().nonnegative().default(1e-3).describe('Adam L2 weight decay'),
    gradClip: z.number().nonnegative().default(0).describe('global-norm clip on architecture gradients; 0 = off'),
  })
  .prefault({})
  .describe('architecture optimizer (Adam)');

export const PdartsSection = z
  .strictObject({
    layers: z.array(posInt()).min(1).default([5, 11, 17]).describe('cells per stage'),
    opsKept: z.array(posInt()).min(1).default([5, 3, 1]).describe('operations kept per edge after each stage'),
    dropout: z
      .array(z.number().min(0).max(1))
      .min(1)
      .default([0, 0.4, 0.7])
      .describe('skip-connect dropout per stage (CIFAR-10 paper values; CIFAR-100: 0.1, 0.2, 0.3)'),
    maxSkip: nonNegInt().default(2).describe('skip-connects allowed in the final normal cell (M)'),
  })
  .prefault({})
  .describe('P-DARTS stages (epochs and archWarmupEpochs count per stage)');

export const RetrainSection = z
  .strictObject({
    layers: posInt().default(20).describe('cells in the evaluation network'),
    channels: posInt().default(36).describe('initial channels C'),
    epochs: posInt().default(600).describe('training epochs'),
    batchSize: posInt().default(96).describe('batch size'),
    lr: lr().default(0.025).describe('SGD learning rate'),
    lrMin: lr().default(0).describe('floor of the lr schedule'),
    schedule: z
      .enum(['cosine', 'step', 'linear'])
      .default('cosine')
      .describe('lr schedule: cosine, step (x lrGamma per epoch), linear (PC-DARTS ImageNet)'),
    lrGamma: z.number().positive().default(0.97).describe('per-epoch factor of the step schedule'),
    warmupEpochs: nonNegInt().default(0).describe('linear lr warm-up epochs'),
    momentum: z.number().min(0).max(1).default(0.9).describe('SGD momentum'),
    weightDecay: z.number().nonnegative().default(3e-4).describe('SGD weight decay'),
    gradClip: z.number().nonnegative().default(5).describe('global-norm gradient clip; 0 = off'),
    auxiliary: z.boolean().default(true).describe('auxiliary head after the second reduction cell'),
    auxWeight: z.number().nonnegative().default(0.4).describe('weight of the auxiliary loss'),
    dropPath: z.number().min(0).max(1).default(0.2).describe('drop-path probability (ramped from 0 over the epochs)'),
    labelSmoothing: z.number().min(0).max(1).default(0).describe('label smoothing (ImageNet: 0.1)'),
    cutout: z.boolean().default(true).describe('cutout on training images'),
    cutoutLength: posInt().default(16).describe('cutout square side'),
    stepsPerEpoch: posInt().nullable().default(null).describe('stop each epoch after this many steps; null = full epochs'),
  })
  .describe('evaluation-phase training of a genotype (paper §4.2; reference §4)');

/** A search's retrain section: the evaluation settings, and optionally a data set other than the search's. */
export const SearchRetrainSection = RetrainSection.extend({ dataset: RetrainDatasetSection });

const searchShape = {
  description: z.string().optional().describe('one line shown by `lbt presets`'),
  method: z.enum(METHODS).default('darts').describe('base method: darts, pc-darts or p-darts'),
  order: z
    .enum(['first', 'second'])
    .default('second')
    .describe('hypergradient order: first (DARTS-1st) or second (DARTS-2nd, one-step unrolled)'),
  lbt: z.boolean().default(true).describe('learning by teaching on (false = the base method alone)'),
  lambda: z.number().nonnegative().default(1).describe('λ: weight of the pseudo-label loss in the student objective'),
  gamma: z.number().nonnegative().default(1).describe('γ: weight of the student validation loss in the arch objective'),
  studentOnly: z.boolean().default(false).describe('ablation 1: arch objective is the student validation loss only'),
  pseudoOnly: z.boolean().default(false).describe('ablation 2: the student trains on pseudo-labels only (no D_tr labels)'),
  paperForm: z.boolean().default(false).describe("the paper's exact hypergradient (drop the direct path u_A)"),
  seed: nonNegInt().default(2).describe('random seed'),
  device: Device,
  deterministic: z
    .boolean()
    .default(false)
    .describe('deterministic kernels (bit-exact resume; on CUDA also cuDNN deterministic, no autotuning)'),
  engine: EngineSection,
  epochs: posInt().default(50).describe('search epochs (P-DARTS: per stage)'),
  batchSize: posInt().default(64).describe('batch size of the train, validation and unlabeled batches'),
  archWarmupEpochs: nonNegInt().default(0).describe('epochs before architecture updates start (P-DARTS: per stage)'),
  stepsPerEpoch: posInt().nullable().default(null).describe('stop each epoch after this many steps; null = full epochs'),
  logEvery: posInt().default(50).describe('write a step record to metrics.jsonl every this many steps'),
  checkpointEvery: nonNegInt()
    .default(500)
    .describe('checkpoint every this many steps (and at every epoch end); 0 = epochs only'),
  dataset: DatasetSection,
  student: StudentSection,
  supernet: SupernetSection,
  weights: WeightsSection,
  arch: ArchSection,
  pdarts: PdartsSection,
  retrain: SearchRetrainSection.nullable()
    .default(null)
    .describe('short retrain of the found cell after the search; null = none'),
};

export const SearchConfig = z.strictObject(searchShape).superRefine((c, ctx) => {
  for (const k of ['studentOnly', 'pseudoOnly', 'paperForm'] as const)
    if (c[k] && !c.lbt) ctx.addIssue({ code: 'custom', path: [k], message: `${k} is an LBT ablation: it needs lbt: true` });
  const { steps, multiplier } = c.supernet;
  if (multiplier !== null && multiplier > steps)
    ctx.addIssue({ code: 'custom', path: ['supernet', 'multiplier'], message: `at most supernet.steps (${steps})` });
  const n = c.pdarts.layers.length;
  if (c.pdarts.opsKept.length !== n || c.pdarts.dropout.length !== n)
    ctx.addIssue({
      code: 'custom',
      path: ['pdarts'],
      message: `pdarts.layers, opsKept and dropout need one entry per stage (got ${n}, ${c.pdarts.opsKept.length}, ${c.pdarts.dropout.length})`,
    });
});
export type SearchConfig = z.infer<typeof SearchConfig>;
export type SearchConfigInput = z.input<typeof SearchConfig>;
export type RetrainConfig = z.infer<typeof RetrainSection>;
export type SearchRetrainConfig = z.infer<typeof SearchRetrainSection>;

export const TrainConfig = z.strictObject({
  description: z.string().optional().describe('one line shown by `lbt presets`'),
  genotype: z.string().default('DARTS_V2').describe('genotype: a JSON file, a run directory, or a named genotype'),
  seed: nonNegInt().default(0).describe('random seed (reference train.py: 0)'),
  device: Device,
  deterministic: z.boolean().default(false).describe('deterministic kernels'),
  engine: EngineSection,
  checkpointEvery: nonNegInt().default(0).describe('checkpoint every this many steps (and at every epoch end); 0 = epochs only'),
  logEvery: posInt().default(50).describe('write a step record to metrics.jsonl every this many steps'),
  dataset: TrainDatasetSection,
  ...RetrainSection.shape,
});
export type TrainConfig = z.infer<typeof TrainConfig>;
export type TrainConfigInput = z.input<typeof TrainConfig>;

/** A deep-partial config object as written in a file (validated later). */
export type Raw = Record<string, unknown>;

/**
 * Per-method defaults, applied on top of the schema defaults and below everything the user gives.
 * darts: quark0/darts train_search.py (order: second, the paper's DARTS-2nd rows; `--unrolled` is
 * off in the reference code). pc-darts: PC-DARTS train_search.py (batch 256, lr 0.1 cosine to 0,
 * arch lr 6e-4, arch updates from epoch 15, first order; student lr 0.1 and clip 5 as LBT-PC-DARTS).
 * p-darts: P-DARTS train_search.py (25 epochs and 10 warm-up epochs per stage, batch 96, lr to 0,
 * arch lr 6e-4, first order only, arch grads clipped to 5).
 */
export const METHOD_DEFAULTS: Readonly<Record<Method, Raw>> = Object.freeze({
  darts: {},
  'pc-darts': {
    order: 'first',
    batchSize: 256,
    archWarmupEpochs: 15,
    weights: { lr: 0.1, lrMin: 0 },
    arch: { lr: 6e-4 },
    student: { lr: 0.1, gradClip: 5 },
  },
  'p-darts': {
    order: 'first',
    epochs: 25,
    batchSize: 96,
    archWarmupEpochs: 10,
    weights: { lrMin: 0 },
    arch: { lr: 6e-4, gradClip: 5 },
  },
});

/**
 * Per-dataset defaults of `lbt train`: CIFAR and Fashion-MNIST use the schema (DARTS train.py);
 * ImageNet uses the paper's §4.2 setting, which is PC-DARTS train_imagenet.py: 14 cells, C=48,
 * 250 epochs, batch 1024, lr 0.5 linear with 5 warm-up epochs, wd 3e-5, label smoothing 0.1,
 * no drop-path, no cutout.
 */
export const DATASET_DEFAULTS: Readonly<Record<DatasetName, Raw>> = Object.freeze({
  cifar10: {},
  cifar100: {},
  'fashion-mnist': {},
  folder: {},
  imagenet: {
    layers: 14,
    channels: 48,
    epochs: 250,
    batchSize: 1024,
    lr: 0.5,
    schedule: 'linear',
    warmupEpochs: 5,
    weightDecay: 3e-5,
    labelSmoothing: 0.1,
    dropPath: 0,
    cutout: false,
  },
});
