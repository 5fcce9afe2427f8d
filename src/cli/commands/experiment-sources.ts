// The flags that say what an experiment is made of, as one request (local and queued runs alike).
import type { ExperimentFlags } from './experiment.js';

/** What the experiment is made of, as the flags give it (experiment.json's request). */
export function experimentSources(o: ExperimentFlags) {
  return {
    ...(o.preset && { preset: o.preset }),
    ...(o.config && { file: o.config }),
    ...(o.scale && { scale: o.scale }),
    sets: o.set,
    retrain: o.retrain,
  };
}
