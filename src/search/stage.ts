// The end of a stage and of the search. P-DARTS (3 stages) shrinks the operations on each edge after
// a stage and starts the next one with a deeper, fresh teacher; the other methods have one stage.
import { archValues } from '../nas/arch.js';
import { derivePdarts } from '../nas/derive.js';
import { type Genotype, type GenotypeFile, toGenotypeFile } from '../nas/genotype.js';
import { dropOps } from '../nas/p-darts.js';
import { withConcat } from '../nas/supernet.js';
import * as t from '../torch/index.js';
import { logArch } from './arch-log.js';
import { dataShape } from './models.js';
import { afterStage } from './plan.js';
import { type SearchExtra, type Searching, type StageOps, saveSearchCheckpoint, TeacherSide } from './state.js';

/** P-DARTS: the operations kept per edge after stage `stage` (the weakest dropped, by the stage's alphas). */
function shrinkOps(s: Searching, kept: number): StageOps {
  const av = archValues(s.teacher.supernet.arch);
  const { ops } = s.extra;
  return {
    normal: dropOps(av.normal, ops.normal, (ops.normal[0]?.length ?? 8) - kept, false),
    reduce: dropOps(av.reduce, ops.reduce, (ops.reduce[0]?.length ?? 8) - kept, false),
  };
}

/** After a stage's last epoch: the next P-DARTS stage (fewer ops, more cells, a checkpoint), or the end of the loop. */
export function endStage(s: Searching): void {
  const { cfg, pos } = s;
  if (pos.stage + 1 >= s.plan.stages) {
    s.pos = { ...pos, stage: pos.stage + 1 };
    return;
  }
  const kept = cfg.pdarts.opsKept[pos.stage]!;
  const next = shrinkOps(s, kept);
  s.extra.stageGenotypes.push(toGenotypeFile(s.teacher.supernet.genotype()));
  s.extra.ops = next;
  s.teacher.dispose();
  s.pos = afterStage(pos);
  s.teacher = t.withDefaultDevice(s.device, () => new TeacherSide(cfg, dataShape(s.data.meta), s.pos.stage, next));
  const what = `${cfg.pdarts.layers[s.pos.stage]} cells, ${kept} ops per edge`;
  s.run.log({ kind: 'event', step: s.pos.step, event: 'stage', message: `stage ${s.pos.stage}: ${what}`, time: s.run.elapsed() });
  s.progress.message(`stage ${s.pos.stage + 1}/${s.plan.stages}: ${what}`);
  logArch(s); // the new stage's architecture: fewer ops per edge, uniform again
  saveSearchCheckpoint(s);
}

/** P-DARTS records the final genotype under every skip-connect cap M = 8..0; the configured M is the result. */
function genotypeCaps(s: Searching, extra: SearchExtra): Record<string, GenotypeFile> {
  const av = archValues(s.teacher.supernet.arch);
  const caps: Record<string, GenotypeFile> = {};
  const { steps, multiplier } = s.cfg.supernet;
  const ops = { opsNormal: extra.ops.normal, opsReduce: extra.ops.reduce };
  for (let M = 8; M >= 0; M--)
    caps[M] = toGenotypeFile(
      withConcat(derivePdarts(av.normal, av.reduce, { ...ops, maxSkip: M }, steps), steps, multiplier ?? steps),
    );
  return caps;
}

/** The search's result: the genotype of the final architecture (P-DARTS: also genotype-caps.json); a `done` event. */
export function finishSearch(s: Searching): Genotype {
  const genotype = s.teacher.supernet.genotype();
  if (s.cfg.method === 'p-darts') s.run.writeGenotypeCaps(genotypeCaps(s, s.extra));
  s.run.log({ kind: 'event', step: s.pos.step, event: 'done', time: s.run.elapsed() });
  return genotype;
}
