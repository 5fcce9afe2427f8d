// Views of nn modules as the functions of (weights, architecture) that the LBT math expects.
import type { Tensor, nn } from '../torch/index.js';
import type { Net, TeacherNet } from './types.js';

interface Forward {
  forward(x: Tensor): Tensor;
}

function substitute<T>(m: nn.Module, names: readonly string[], w: readonly Tensor[] | undefined, fn: () => T): T {
  if (w === undefined) return fn();
  if (w.length !== names.length) throw new RangeError(`expected ${names.length} weight tensors, got ${w.length}`);
  return m.withTensors(new Map(names.map((n, i) => [n, w[i] as Tensor])), fn);
}

/** A module with forward(x) as a Net over its parameters (e.g. a ResNet student). */
export function netFromModule(m: nn.Module & Forward): Net {
  const named = m.namedParameters();
  const names = named.map(([n]) => n);
  return {
    weights: named.map(([, t]) => t),
    buffers: m.namedBuffers().map(([, t]) => t),
    forward: (x, w) => substitute(m, names, w, () => m.forward(x)),
  };
}

/** A supernet as a TeacherNet: forwardWithArch(x, arch) evaluates it at any architecture values. */
export function teacherFromModule(
  m: nn.Module,
  arch: readonly Tensor[],
  forwardWithArch: (x: Tensor, arch: readonly Tensor[]) => Tensor,
): TeacherNet {
  const named = m.namedParameters();
  const names = named.map(([n]) => n);
  return {
    weights: named.map(([, t]) => t),
    buffers: m.namedBuffers().map(([, t]) => t),
    arch,
    forward: (x, w, a) => substitute(m, names, w, () => forwardWithArch(x, a ?? arch)),
  };
}
