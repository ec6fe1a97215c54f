// `mede2 generate`: text (and image) prompt → generated token ids, and text when the model folder
// has a tokenizer. The prompt is given as ids, or as text put through the model's chat template
// as one user turn (the image first, as Qwen's processor examples do); an image goes through the
// Qwen2-VL image processor with the folder's preprocessor_config.json, and its placeholder
// <|image_pad|> is expanded to the image's token count, as Qwen2VLProcessor does.
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { numberOption, parseCommandArgs } from './args.js';
import { createBackend, parseDeviceChoice } from '../backend/select.js';
import { dirFileSet, type FileSet } from '../io/fileset.js';
import { loadPeftAdapter } from '../models/qwen2vl/adapter.js';
import { generate } from '../models/qwen2vl/generate.js';
import { loadQwenVL } from '../models/qwen2vl/load.js';
import type { Grid } from '../models/qwen2vl/vision.js';
import { platform } from '../platform/platform.js';
import { Runtime } from '../tensor/runtime.js';
import { Tokenizer, expandVisionPlaceholders } from '../text/index.js';
import { decode } from '../vision/decode.js';
import { Qwen2VLImageProcessor } from '../vision/qwen2vl.js';

/**
 * Prompt ids with each image's placeholder run expanded: a run of exactly the image's token count
 * is kept, a single placeholder token becomes that many; anything else is an error.
 */
export function expandImageTokens(ids: readonly number[], imageToken: number, tokensPerImage: readonly number[]): Int32Array {
  const out: number[] = [];
  let img = 0;
  for (let i = 0; i < ids.length; ) {
    if (ids[i] !== imageToken) {
      out.push(ids[i++]);
      continue;
    }
    let end = i;
    while (end < ids.length && ids[end] === imageToken) end++;
    const want = tokensPerImage[img];
    if (want === undefined) throw new Error(`the prompt has more image placeholder runs (token ${imageToken}) than the ${tokensPerImage.length} image(s) given`);
    if (end - i !== 1 && end - i !== want) throw new Error(`image ${img} needs ${want} tokens ${imageToken} (or one placeholder to expand), the prompt has a run of ${end - i}`);
    for (let k = 0; k < want; k++) out.push(imageToken);
    img++;
    i = end;
  }
  if (img !== tokensPerImage.length) throw new Error(`${tokensPerImage.length} image(s) given but the prompt has ${img} placeholder run(s) of token ${imageToken}`);
  return Int32Array.from(out);
}

/** One user turn (images first, then the text) through the chat template, with the generation prompt, tokenized. */
export function chatPromptIds(tk: Tokenizer, text: string, grids: Grid[], mergeSize: number): Int32Array {
  const content = [...grids.map(() => ({ type: 'image' })), { type: 'text', text }];
  const rendered = tk.applyChatTemplate([{ role: 'user', content }], { addGenerationPrompt: true });
  const expanded = grids.length ? expandVisionPlaceholders(rendered, grids, mergeSize) : rendered;
  return Int32Array.from(tk.encode(expanded, { addSpecialTokens: false }).ids);
}

async function readJsonIfPresent(files: FileSet, name: string): Promise<Record<string, unknown> | undefined> {
  if (!(await files.has(name))) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(await files.read(name)));
  } catch (e) {
    throw new Error(`${files.label}/${name}: not valid JSON (${(e as Error).message})`);
  }
}

/** generation_config.json's eos_token_id (one id or a list) as stop tokens. */
function stopTokens(gen: Record<string, unknown> | undefined, where: string): number[] {
  const eos = gen?.eos_token_id;
  if (eos === undefined || eos === null) return [];
  const list = Array.isArray(eos) ? eos : [eos];
  if (!list.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`${where}: eos_token_id must be a token id or a list of them, got ${JSON.stringify(eos)}`);
  return list as number[];
}

function parseIds(s: string): number[] {
  const ids = s.split(',').map((x) => x.trim());
  if (!ids.length || !ids.every((x) => /^\d+$/.test(x))) throw new UsageError(`--prompt-ids expects comma-separated token ids such as 1,2,3, got '${s}'`);
  return ids.map(Number);
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate from a Qwen2-VL/Qwen2.5-VL folder: prompt (ids or text) [+ image] → token ids (and text)',
  usage: [
    'usage: mede2 generate --model DIR (--prompt-ids 1,2,3 | --prompt TEXT) [--image FILE] --max-new-tokens N',
    '                      [--temperature T --top-p P --top-k K --seed S] [--adapter DIR] [--device auto|webgpu|wasm]',
    '',
    '  --model           a Qwen2-VL / Qwen2.5-VL folder; its tokenizer.json (with --prompt, and to print text),',
    '                    preprocessor_config.json and generation_config.json (eos_token_id stops) are used when present',
    '  --prompt-ids      the prompt as token ids; with --image, one image token (or a run of the exact count) marks the image',
    "  --prompt          the prompt as text: one user turn through the model's chat template, the image before the text",
    '  --image           PNG, JPEG or DICOM file, through the Qwen2-VL image processor',
    '  --max-new-tokens  how many tokens to generate at most',
    '  --temperature     0 (default) is greedy; above 0 samples',
    '  --top-p, --top-k  nucleus / top-k filtering when sampling',
    '  --seed            sampling seed (default 0)',
    '  --adapter         a PEFT LoRA adapter folder applied to the model',
    '  --device          auto (default: a hardware GPU, else wasm), webgpu or wasm',
    '',
    'prints `ids: …` (the generated ids), `finish: stop|length` and, with a tokenizer, `text: …`',
  ].join('\n'),
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      model: { type: 'string' },
      'prompt-ids': { type: 'string' },
      prompt: { type: 'string' },
      image: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      seed: { type: 'string' },
      adapter: { type: 'string' },
      device: { type: 'string' },
    });
    if (!values.model) throw new UsageError('--model is required');
    if ((values['prompt-ids'] === undefined) === (values.prompt === undefined)) throw new UsageError('give the prompt as --prompt-ids or as --prompt (one of them)');
    const maxNewTokens = numberOption('max-new-tokens', values['max-new-tokens']);
    if (maxNewTokens === undefined) throw new UsageError('--max-new-tokens is required');
    const files = dirFileSet(values.model);
    const hasTokenizer = await files.has('tokenizer.json');
    if (values.prompt !== undefined && !hasTokenizer) throw new Error(`--prompt needs ${files.label}/tokenizer.json; give --prompt-ids instead`);
    const tokenizer = hasTokenizer ? await Tokenizer.fromFile(values.model) : undefined;

    const { backend } = await createBackend(parseDeviceChoice(values.device));
    const rt = new Runtime(backend);
    try {
      const model = await loadQwenVL(rt, files);
      if (values.adapter) await loadPeftAdapter(model, dirFileSet(values.adapter));
      let grids: Grid[] = [];
      let pixels;
      let mergeSize = model.config.vision.spatialMergeSize;
      if (values.image) {
        const readFile = platform().readFile!;
        let bytes: Uint8Array;
        try {
          bytes = await readFile(values.image);
        } catch (e) {
          throw new Error(`cannot read --image '${values.image}': ${(e as Error).message}`);
        }
        const processor = Qwen2VLImageProcessor.fromConfig((await readJsonIfPresent(files, 'preprocessor_config.json')) ?? {});
        mergeSize = processor.options.mergeSize;
        const batch = await processor.preprocess(await decode(bytes));
        grids = batch.imageGridThw;
        pixels = rt.keep(rt.tensor(batch.pixelValues, batch.shape));
      }
      const perImage = grids.map(([t, h, w]) => (t * h * w) / (mergeSize * mergeSize));
      const inputIds =
        values.prompt !== undefined
          ? chatPromptIds(tokenizer!, values.prompt, grids, mergeSize)
          : expandImageTokens(parseIds(values['prompt-ids']!), model.config.imageTokenId, perImage);
      const result = await generate(model, {
        inputIds,
        pixelValues: pixels,
        imageGridThw: grids,
        maxNewTokens,
        temperature: numberOption('temperature', values.temperature),
        topP: numberOption('top-p', values['top-p']),
        topK: numberOption('top-k', values['top-k']),
        seed: numberOption('seed', values.seed),
        stopTokens: stopTokens(await readJsonIfPresent(files, 'generation_config.json'), `${files.label}/generation_config.json`),
      });
      console.log(`ids: ${result.tokens.join(',')}`);
      console.log(`finish: ${result.finish}`);
      if (tokenizer) console.log(`text: ${tokenizer.decode(result.tokens, { skipSpecialTokens: true })}`);
      pixels?.release();
      model.release();
    } finally {
      backend.destroy();
    }
  },
};
