// `mede2 forward`: one forward (and optionally backward) pass of a Qwen2-VL / Qwen2.5-VL folder on
// inputs named and typed as transformers takes them, written as safetensors for parity checks
// against PyTorch: logits [B, L, V], loss, and with --grads the gradient of every weight (or, with
// --adapter, of every adapter matrix) under its checkpoint name.
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { parseCommandArgs } from './args.js';
import { createBackend, parseDeviceChoice } from '../backend/select.js';
import { dirFileSet } from '../io/fileset.js';
import { readSafetensors, tensorArray, writeSafetensors, type SafetensorsTensor, type TensorToWrite } from '../io/safetensors.js';
import { loadPeftAdapter, peftKey } from '../models/qwen2vl/adapter.js';
import { loadQwenVL } from '../models/qwen2vl/load.js';
import { layoutName } from '../models/qwen2vl/names.js';
import type { Grid } from '../models/qwen2vl/vision.js';
import { platform } from '../platform/platform.js';
import { backward } from '../tensor/autograd.js';
import { Runtime } from '../tensor/runtime.js';
import type { Tensor } from '../tensor/tensor.js';

const IGNORE = -100;

export interface ForwardInputsFile {
  ids: Int32Array;
  shape: [number, number];
  attentionMask?: Int32Array;
  labels?: Int32Array;
  pixels?: { data: Float32Array; shape: [number, number] };
  grids?: Grid[];
}

/** Integer tensor values (I64, I32 or BOOL as transformers may give them) as Int32. */
function ints(t: SafetensorsTensor, name: string, file: string): Int32Array {
  if (t.dtype === 'BOOL' || t.dtype === 'I32' || t.dtype === 'U8') return Int32Array.from(tensorArray(t) as ArrayLike<number>);
  if (t.dtype === 'I64') {
    const v = tensorArray(t) as BigInt64Array;
    const out = new Int32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      if (v[i] < -0x80000000n || v[i] > 0x7fffffffn) throw new Error(`${file}: ${name}[${i}] = ${v[i]} does not fit 32 bits`);
      out[i] = Number(v[i]);
    }
    return out;
  }
  throw new Error(`${file}: ${name} must be I64 or I32 (as transformers gives it), got ${t.dtype}`);
}

/** Reads and checks the inputs file: names and dtypes as transformers' processor and collators produce them. */
export function readForwardInputs(bytes: Uint8Array, file: string): ForwardInputsFile {
  let tensors: Map<string, SafetensorsTensor>;
  try {
    tensors = readSafetensors(bytes).tensors;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const idsT = tensors.get('input_ids');
  if (!idsT) throw new Error(`${file}: no input_ids tensor (found: ${[...tensors.keys()].join(', ') || 'none'})`);
  if (idsT.shape.length !== 1 && idsT.shape.length !== 2) throw new Error(`${file}: input_ids must be [batch, length] or [length], got [${idsT.shape}]`);
  const shape: [number, number] = idsT.shape.length === 2 ? [idsT.shape[0], idsT.shape[1]] : [1, idsT.shape[0]];
  const out: ForwardInputsFile = { ids: ints(idsT, 'input_ids', file), shape };
  for (const name of ['attention_mask', 'labels'] as const) {
    const t = tensors.get(name);
    if (!t) continue;
    if (t.shape.join() !== idsT.shape.join()) throw new Error(`${file}: ${name} has shape [${t.shape}], input_ids [${idsT.shape}]`);
    const v = ints(t, name, file);
    if (name === 'attention_mask') out.attentionMask = v;
    else out.labels = v;
  }
  if (out.attentionMask && out.labels)
    out.attentionMask.forEach((m, i) => {
      if (!m && out.labels![i] !== IGNORE) throw new Error(`${file}: labels[${i}] = ${out.labels![i]} sits on padding (attention_mask 0); padding must be labelled ${IGNORE}`);
    });
  const pv = tensors.get('pixel_values');
  const grid = tensors.get('image_grid_thw');
  if (!pv !== !grid) throw new Error(`${file}: pixel_values and image_grid_thw go together`);
  if (pv && grid) {
    if (pv.dtype !== 'F32') throw new Error(`${file}: pixel_values must be F32, got ${pv.dtype}`);
    if (pv.shape.length !== 2) throw new Error(`${file}: pixel_values must be [patches, channels·temporal·patch²], got [${pv.shape}]`);
    if (grid.shape.length !== 2 || grid.shape[1] !== 3) throw new Error(`${file}: image_grid_thw must be [images, 3], got [${grid.shape}]`);
    const g = ints(grid, 'image_grid_thw', file);
    out.grids = Array.from({ length: grid.shape[0] }, (_, i) => [g[3 * i], g[3 * i + 1], g[3 * i + 2]] as Grid);
    const patches = out.grids.reduce((a, [t, h, w]) => a + t * h * w, 0);
    if (patches !== pv.shape[0]) throw new Error(`${file}: image_grid_thw covers ${patches} patches, pixel_values has ${pv.shape[0]} rows`);
    out.pixels = { data: Float32Array.from(tensorArray(pv) as Float32Array), shape: [pv.shape[0], pv.shape[1]] };
  }
  return out;
}

export const forward: Command = {
  name: 'forward',
  summary: 'one forward (and backward) pass of a Qwen2-VL/Qwen2.5-VL folder: inputs.safetensors → logits, loss, grads',
  usage: [
    'usage: mede2 forward --model DIR --inputs IN.safetensors --out OUT.safetensors [--grads] [--adapter DIR] [--device auto|webgpu|wasm]',
    '',
    '  --model    a Qwen2-VL / Qwen2.5-VL folder (config.json, model.safetensors or shards + index)',
    '  --inputs   safetensors with the tensors transformers takes, by the same names:',
    '               input_ids       I64 or I32 [batch, length] (or [length])',
    '               attention_mask  optional, same shape, 1 = token, 0 = padding (left or right)',
    '               pixel_values    optional, F32 [patches, 3·temporal·patch²] (as the processor / `mede2 preprocess` gives)',
    '               image_grid_thw  with pixel_values, I64 or I32 [images, 3]',
    '               labels          optional, same shape as input_ids, -100 = ignored (shifted inside, as transformers);',
    '                               padding positions must be -100',
    '             other tensors in the file are ignored',
    '  --out      safetensors written: logits F32 [batch, length, vocab] — rows at padding positions are zero, not',
    '             computed — and, with labels, loss F32 [] (mean over labelled tokens)',
    '  --grads    also backpropagate the loss (needs labels): grad.<name> F32 for every weight under its name in the',
    '             checkpoint (its own layout); weights that take no part (the vision tower without images) get none,',
    '             as PyTorch leaves them None. With --adapter, only the adapter matrices: grad.base_model.model.<module>.lora_A.weight ...',
    '  --adapter  a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) applied to the model',
    '  --device   auto (default: a hardware GPU, else wasm), webgpu or wasm',
  ].join('\n'),
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      model: { type: 'string' },
      inputs: { type: 'string' },
      out: { type: 'string' },
      grads: { type: 'boolean' },
      adapter: { type: 'string' },
      device: { type: 'string' },
    });
    if (!values.model) throw new UsageError('--model is required');
    if (!values.inputs) throw new UsageError('--inputs is required');
    if (!values.out) throw new UsageError('--out is required');
    const p = platform();
    if (!p.readFile || !p.writeFileAtomic) throw new Error(`the ${p.name} platform cannot read and write files`);
    let bytes: Uint8Array;
    try {
      bytes = await p.readFile(values.inputs);
    } catch (e) {
      throw new Error(`cannot read --inputs '${values.inputs}': ${(e as Error).message}`);
    }
    const inp = readForwardInputs(bytes, values.inputs);
    if (values.grads && !inp.labels) throw new Error(`--grads needs labels in ${values.inputs} (the gradient is of the loss)`);

    const { backend } = await createBackend(parseDeviceChoice(values.device));
    const rt = new Runtime(backend);
    try {
      // Gradients of every weight need them trainable and unpacked; an adapter trains alone (base frozen).
      const everything = values.grads && !values.adapter;
      const model = await loadQwenVL(rt, dirFileSet(values.model), {
        freeze: everything ? { vision: false, merger: false, language: false } : { vision: true, merger: true, language: true },
        keepPacked: !everything,
      });
      if (values.adapter) await loadPeftAdapter(model, dirFileSet(values.adapter));
      const [B, L] = inp.shape;
      const out = new Map<string, TensorToWrite>();
      let lossValue: number | undefined;
      await rt.scopeAsync(async () => {
        const pixels = inp.pixels ? rt.tensor(inp.pixels.data, inp.pixels.shape) : undefined;
        const r = model.forward({ inputIds: inp.ids, shape: inp.shape, attentionMask: inp.attentionMask, labels: inp.labels, pixelValues: pixels, imageGridThw: inp.grids });
        const V = model.config.text.vocabSize;
        const rows = await r.logits!.f32();
        const logits = new Float32Array(B * L * V);
        r.positions.forEach((pos, i) => logits.set(rows.subarray(i * V, (i + 1) * V), pos * V));
        out.set('logits', { dtype: 'F32', shape: [B, L, V], data: logits });
        if (r.loss) {
          lossValue = await r.loss.item();
          out.set('loss', { dtype: 'F32', shape: [], data: Float32Array.of(lossValue) });
        }
        if (values.grads) {
          backward(r.loss!);
          const grads: [string, Tensor | null][] = [];
          if (model.lora)
            for (const [module, pair] of model.lora.pairs) grads.push([peftKey(module, model.layout, 'A'), pair.a.grad], [peftKey(module, model.layout, 'B'), pair.b.grad]);
          else for (const [name, w] of model.params) grads.push([layoutName(name, model.layout), w.grad]);
          for (const [key, g] of grads) if (g) out.set(`grad.${key}`, { dtype: 'F32', shape: [...g.shape], data: await g.f32() });
        }
      });
      await p.writeFileAtomic(values.out, writeSafetensors(out, { format: 'pt' }));
      const nGrads = [...out.keys()].filter((k) => k.startsWith('grad.')).length;
      console.log(`logits [${B}, ${L}, ${model.config.text.vocabSize}]${lossValue === undefined ? '' : `, loss ${lossValue}`}${values.grads ? `, ${nGrads} gradients` : ''} → ${values.out}`);
      model.release();
    } finally {
      backend.destroy();
    }
  },
};
