// `lbt params`: parameter counts of evaluation networks, supernets and students, counted as the
// reference code counts them (auxiliary head and architecture parameters excluded).
// The last line printed is the bare integer.
import type { Command } from 'commander';
import { countParametersNoAux, NetworkCIFAR, NetworkImageNet } from '../../nas/eval-network.js';
import { createPcDartsSupernet } from '../../nas/pc-darts.js';
import { createPdartsSupernet } from '../../nas/p-darts.js';
import { createDartsSupernet } from '../../nas/supernet.js';
import { resnet18, resnet50 } from '../../students/resnet.js';
import type * as t from '../../torch/index.js';
import { UserError } from '../errors.js';
import { loadGenotypeArg, parseIntArg } from './genotype.js';

interface ParamsOptions {
  genotype?: string;
  supernet?: string;
  student?: string;
  dataset?: string;
  classes?: string;
  channels?: string;
  layers?: string;
  auxiliary?: boolean;
  auxBn?: boolean;
  inChannels?: string;
}

const DATASETS: Record<string, { classes: number; C: number; layers: number; imagenet: boolean }> = {
  cifar10: { classes: 10, C: 36, layers: 20, imagenet: false },
  cifar100: { classes: 100, C: 36, layers: 20, imagenet: false },
  imagenet: { classes: 1000, C: 48, layers: 14, imagenet: true },
};

function build(o: ParamsOptions): { net: t.nn.Module; what: string; count: number } {
  const int = (flag: string, v: string | undefined, dflt: number) => (v === undefined ? dflt : parseIntArg(flag, v));
  const inChannels = int('--in-channels', o.inChannels, 3);
  if (o.genotype !== undefined) {
    const ds = DATASETS[o.dataset ?? 'cifar10'];
    if (!ds) throw new UserError(`--dataset must be one of ${Object.keys(DATASETS).join(', ')}, got '${o.dataset}'`);
    const { genotype, name } = loadGenotypeArg(o.genotype);
    const cfg = {
      genotype,
      C: int('--channels', o.channels, ds.C),
      layers: int('--layers', o.layers, ds.layers),
      numClasses: int('--classes', o.classes, ds.classes),
      auxiliary: o.auxiliary ?? false,
      inChannels,
    };
    if (!ds.imagenet && cfg.C % 2 !== 0) throw new UserError(`--channels must be even, got ${cfg.C}`);
    const net = ds.imagenet ? new NetworkImageNet({ ...cfg, auxBn768: o.auxBn ?? false }) : new NetworkCIFAR(cfg);
    const what = `${ds.imagenet ? 'NetworkImageNet' : 'NetworkCIFAR'} ${name}, C=${cfg.C}, ${cfg.layers} cells, ${cfg.numClasses} classes, ${cfg.auxiliary ? 'with' : 'without'} auxiliary head`;
    return { net, what, count: cfg.auxiliary ? net.numParameters() : countParametersNoAux(net) };
  }
  if (o.supernet !== undefined) {
    const so = {
      C: int('--channels', o.channels, 16),
      numClasses: int('--classes', o.classes, 10),
      layers: int('--layers', o.layers, o.supernet === 'p-darts' ? 5 : 8),
      inChannels,
    };
    let net: t.nn.Module;
    if (o.supernet === 'darts') net = createDartsSupernet(so);
    else if (o.supernet === 'pc-darts') net = createPcDartsSupernet(so);
    else if (o.supernet === 'p-darts') net = createPdartsSupernet(so);
    else throw new UserError(`--supernet must be darts, pc-darts or p-darts, got '${o.supernet}'`);
    const what = `${o.supernet} supernet, C=${so.C}, ${so.layers} cells, ${so.numClasses} classes (architecture parameters excluded)`;
    return { net, what, count: net.numParameters() };
  }
  if (o.student !== undefined) {
    const make = o.student === 'resnet18' ? resnet18 : o.student === 'resnet50' ? resnet50 : null;
    if (!make) throw new UserError(`--student must be resnet18 or resnet50, got '${o.student}'`);
    const numClasses = int('--classes', o.classes, 10);
    const net = make({ numClasses, inChannels });
    return { net, what: `${o.student}, ${numClasses} classes`, count: net.numParameters() };
  }
  throw new UserError('give one of --genotype, --supernet or --student');
}

export function registerParams(program: Command): void {
  program
    .command('params')
    .description('count the parameters of a network (the last line printed is the bare count)')
    .option('--genotype <name|file>', 'evaluation network of a genotype (built-in name or JSON file)')
    .option('--dataset <name>', 'with --genotype: cifar10, cifar100 or imagenet', 'cifar10')
    .option('--supernet <space>', 'search network: darts, pc-darts or p-darts')
    .option('--student <name>', 'student network: resnet18 or resnet50')
    .option('--classes <n>', "number of classes (default: the dataset's, or 10)")
    .option('--channels <c>', 'initial channels (default 36 CIFAR, 48 ImageNet, 16 supernet)')
    .option('--layers <l>', 'cells (default 20 CIFAR, 14 ImageNet, 8 supernet, 5 p-darts)')
    .option('--in-channels <n>', 'input image channels', '3')
    .option('--auxiliary', 'include the auxiliary head in the count')
    .option('--aux-bn', 'ImageNet: BN(768) in the auxiliary head, as P-DARTS has')
    .action((o: ParamsOptions) => {
      const chosen = [o.genotype, o.supernet, o.student].filter((v) => v !== undefined).length;
      if (chosen !== 1) throw new UserError('give exactly one of --genotype, --supernet or --student');
      const { net, what, count } = build(o);
      net.dispose();
      process.stdout.write(`${what}\n${count.toLocaleString('en-US')} parameters\n${count}\n`);
    });
}
