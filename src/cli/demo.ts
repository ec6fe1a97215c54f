// `mede2 demo`: the foundation smoke run until Stage I lands — trains a tiny character
// model (embedding → RMSNorm → SwiGLU MLP → LM head, cross-entropy, AdamW with clipping)
// on a few medical sentences with whichever backend is selected, and reports loss before
// and after, throughput, peak memory and a greedy continuation.
import type { Command } from './command.js';
import { numberOption, parseCommandArgs } from './args.js';
import { parseDeviceChoice } from '../backend/select.js';
import { Runtime } from '../tensor/runtime.js';
import { backward } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import { AdamW } from '../optim/adamw.js';
import { fmtBytes } from '../util/format.js';
import { Rng } from '../util/rng.js';

const CORPUS = [
  'chest x-ray shows a right lower lobe consolidation consistent with pneumonia. ',
  'the heart size is normal and there is no pleural effusion. ',
  'ct of the head shows no acute intracranial hemorrhage. ',
  'mri demonstrates a well circumscribed lesion in the left temporal lobe. ',
  'the lungs are clear and there is no pneumothorax. ',
].join('');

export const demo: Command = {
  name: 'demo',
  summary: 'train a tiny character model on medical sentences (foundation smoke run)',
  usage: 'usage: mede2 demo [--device auto|webgpu|wasm] [--steps 150] [--dim 64]',
  async run(argv) {
    const { values } = parseCommandArgs(argv, { device: { type: 'string' }, steps: { type: 'string' }, dim: { type: 'string' } });
    const steps = numberOption('steps', values.steps, 150)!;
    const D = numberOption('dim', values.dim, 64)!;
    const rt = await Runtime.create(parseDeviceChoice(values.device));
    const { ops } = rt;
    console.log(`backend: ${rt.backend.info.kind} — ${rt.backend.info.description}`);

    const chars = [...new Set(CORPUS)].sort();
    const V = chars.length;
    const ids = [...CORPUS].map((c) => chars.indexOf(c));
    const T = ids.length - 1;
    const inputs = rt.keep(rt.tensor(ids.slice(0, T), [T], 'i32'));
    const targets = rt.keep(rt.tensor(ids.slice(1), [T], 'i32'));
    const H = 4 * D;
    const rng = new Rng(1);
    const uniform = (n: number, a: number) => rng.uniformArray(n, -a, a);
    const p = {
      emb: rt.parameter(uniform(V * D, 0.5), [V, D], 'embed'),
      norm: rt.parameter(new Float32Array(D).fill(1), [D], 'norm'),
      gate: rt.parameter(uniform(H * D, 1 / Math.sqrt(D)), [H, D], 'gate'),
      up: rt.parameter(uniform(H * D, 1 / Math.sqrt(D)), [H, D], 'up'),
      down: rt.parameter(uniform(D * H, 1 / Math.sqrt(H)), [D, H], 'down'),
      head: rt.parameter(uniform(V * D, 1 / Math.sqrt(D)), [V, D], 'lm_head'),
    };
    const forward = (x: Tensor): Tensor => {
      const h = ops.gatherRows(p.emb, x);
      const n = ops.rmsNorm(h, p.norm, 1e-6);
      const m = ops.linear(ops.swiglu(ops.linear(n, p.gate), ops.linear(n, p.up)), p.down);
      return ops.linear(ops.add(h, m), p.head);
    };
    const evalLoss = () => rt.scopeAsync(() => rt.noGrad(() => ops.crossEntropy(forward(inputs), targets)).item());

    const opt = new AdamW(Object.values(p), { lr: 3e-3, weightDecay: 0.0, maxGradNorm: 1.0 });
    const before = await evalLoss();
    console.log(`tokens ${T}, vocab ${V}, parameters ${Object.values(p).reduce((s, t) => s + t.size, 0)}, loss before ${before.toFixed(4)} (uniform guess ${Math.log(V).toFixed(4)})`);
    rt.backend.resetPeak();
    const t0 = performance.now();
    for (let step = 1; step <= steps; step++) {
      const loss = rt.scope(() => {
        const l = ops.crossEntropy(forward(inputs), targets);
        backward(l);
        return l;
      });
      opt.step();
      opt.zeroGrad();
      if (step % 25 === 0 || step === steps) {
        const v = await loss.item();
        const s = (performance.now() - t0) / 1000;
        console.log(`step ${String(step).padStart(4)}  loss ${v.toFixed(4)}  ${((step * T) / s).toFixed(0)} tok/s  peak ${fmtBytes(rt.memory().peakBytes)}`);
      }
      loss.release();
    }
    const after = await evalLoss();
    // Greedy continuation: a bigram model, so each character depends only on the previous one.
    let text = 'chest x-ray ';
    for (let i = 0; i < 40; i++) {
      const next = await rt.scopeAsync(async () => {
        const logits = rt.noGrad(() => forward(rt.tensor([chars.indexOf(text[text.length - 1])], [1], 'i32')));
        const row = await logits.f32();
        return row.indexOf(Math.max(...row));
      });
      text += chars[next];
    }
    console.log(`loss after ${after.toFixed(4)} (before ${before.toFixed(4)})`);
    console.log(`greedy continuation: "${text}"`);
    if (!(after < before)) throw new Error('demo: the loss did not decrease — the backend is computing something wrong');
    rt.backend.destroy();
  },
};
