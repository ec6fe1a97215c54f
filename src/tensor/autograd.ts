// Reverse-mode autograd. Ops record a GradNode on their output when gradients are enabled
// and an input requires them; backward() walks the graph in reverse topological order,
// summing gradients of tensors used more than once, and accumulates leaf gradients in .grad.
import type { Tensor } from './tensor.js';

/**
 * The gradient of one part of an input: `g` covers [start, start + g.shape[axis]) along `axis`
 * and the rest is zero. Slices hand these on, so a tensor cut into parts (q, k and v of one
 * product) gets its gradient assembled with one copy per part, not zero-padded full-size adds.
 */
export class GradPart {
  constructor(
    readonly g: Tensor,
    readonly axis: number,
    readonly start: number,
  ) {}
}

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Gradients w.r.t. each input given the output gradient (null where not needed). Runs under noGrad. */
  backward(gOut: Tensor): (Tensor | GradPart | null)[];
}

/** Attaches a node to `out` when any input requires grad and grad mode is on. */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  if (!out.rt.gradEnabled || !inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, backward };
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  // Iterative DFS: model graphs are deep enough to overflow a recursive walk.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root.id);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const c = inputs[i];
      if (c.requiresGrad && !seen.has(c.id)) {
        seen.add(c.id);
        stack.push([c, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order; // inputs before outputs
}

/**
 * Back-propagates from `root` (a scalar unless `seed` is given). Leaf gradients are added
 * into `.grad` (kept across scopes); every intermediate gradient is released as soon as
 * it has been propagated. Backward rules return fresh tensors or the output gradient itself.
 */
export function backward(root: Tensor, seed?: Tensor): void {
  const rt = root.rt;
  if (!root.requiresGrad) throw new Error(`backward: ${root.describe()} does not require grad (no parameter took part, or it was computed under noGrad)`);
  if (!seed && root.size !== 1) throw new Error(`backward: ${root.describe()} is not a scalar; pass the output gradient`);
  if (seed && seed.size !== root.size) throw new Error(`backward: seed ${seed.describe()} does not match ${root.describe()}`);
  const order = topoOrder(root);
  rt.noGrad(() => {
    // Every gradient in these maps is owned by this walk and released once propagated.
    const grads = new Map<number, Tensor>([[root.id, seed ? rt.ops.copy(seed) : rt.full(root.shape, 1)]]);
    const parts = new Map<number, GradPart[]>();
    const accumulate = (t: Tensor, g: Tensor): void => {
      const prev = grads.get(t.id);
      if (!prev) return void grads.set(t.id, g);
      grads.set(t.id, rt.ops.add(prev, g));
      prev.release();
      g.release();
    };
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const pending = parts.get(t.id);
      parts.delete(t.id);
      if (pending) accumulate(t, assemble(t, pending));
      const g = grads.get(t.id);
      if (!g) continue;
      grads.delete(t.id);
      const node = t.node;
      if (!node) {
        // A leaf: accumulate into .grad, which outlives the current scope.
        if (t.grad) {
          const sum = rt.ops.add(t.grad, g);
          t.grad.release();
          g.release();
          t.grad = rt.keep(sum);
        } else t.grad = rt.keep(g);
        continue;
      }
      const gIn = node.backward(g);
      let gHandedOn = false;
      node.inputs.forEach((inp, k) => {
        const gi = gIn[k];
        if (!gi) return;
        const part = gi instanceof GradPart ? gi : null;
        let mine = part ? part.g : (gi as Tensor);
        if (!inp.requiresGrad) {
          if (mine !== g) mine.release();
          return;
        }
        if (part ? !fitsPart(part, inp) : mine.size !== inp.size)
          throw new Error(`backward of ${node.op}: gradient ${mine.describe()}${part ? ` at ${part.start} of axis ${part.axis}` : ''} does not match input ${inp.describe()}`);
        if (mine === g) {
          if (gHandedOn) mine = rt.ops.copy(g);
          gHandedOn = true;
        }
        if (part) {
          const list = parts.get(inp.id) ?? [];
          list.push(new GradPart(mine, part.axis, part.start));
          parts.set(inp.id, list);
          return;
        }
        if (mine.shape.length !== inp.shape.length || mine.shape.some((d, j) => d !== inp.shape[j])) {
          const view = rt.ops.reshape(mine, inp.shape);
          mine.release(); // the view holds the storage now
          mine = view;
        }
        accumulate(inp, mine);
      });
      if (!gHandedOn) g.release();
      t.node = null; // free the graph as we go
    }
  });
}

function fitsPart(p: GradPart, inp: Tensor): boolean {
  const { g, axis, start } = p;
  return g.rank === inp.rank && g.shape.every((d, j) => (j === axis ? start + d <= inp.shape[j] : d === inp.shape[j]));
}

/**
 * The full gradient of `t` from parts of it: parts along one axis that do not overlap are copied
 * into one tensor (zeros only where they leave gaps); any other part is zero-padded and added.
 */
function assemble(t: Tensor, ps: GradPart[]): Tensor {
  const rt = t.rt;
  const sorted = [...ps].sort((a, b) => a.axis - b.axis || a.start - b.start);
  const axis = sorted[0].axis;
  const placed: GradPart[] = [];
  const rest: GradPart[] = [];
  for (const p of sorted) {
    const last = placed[placed.length - 1];
    if (p.axis === axis && (!last || last.start + last.g.shape[axis] <= p.start)) placed.push(p);
    else rest.push(p);
  }
  const covered = placed.reduce((n, p) => n + p.g.shape[axis], 0) === t.shape[axis];
  let out = covered ? rt.empty(t.shape, 'f32', 'backward') : rt.zeros(t.shape);
  for (const p of placed) rt.ops.placeSlice(p.g, out, axis, p.start);
  for (const p of rest) {
    const padded = rt.zeros(t.shape);
    rt.ops.placeSlice(p.g, padded, p.axis, p.start);
    const sum = rt.ops.add(out, padded);
    out.release();
    padded.release();
    out = sum;
  }
  for (const p of ps) p.g.release();
  return out;
}
