// `mede2 preprocess`: one image (PNG, JPEG or DICOM) through the Qwen2-VL image processor into a
// safetensors file holding pixel_values (F32 [patches, 3·T·P·P]) and image_grid_thw (I64 [1, 3]),
// the two inputs transformers' processor gives the model.
import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { numberOption, parseCommandArgs } from './args.js';
import { platform } from '../platform/platform.js';
import { decode } from '../vision/decode.js';
import { Qwen2VLImageProcessor } from '../vision/qwen2vl.js';
import { writeSafetensors } from '../io/safetensors.js';

async function read(path: string, what: string): Promise<Uint8Array> {
  const readFile = platform().readFile;
  if (!readFile) throw new Error('this platform cannot read files');
  try {
    return await readFile(path);
  } catch (e) {
    throw new Error(`cannot read ${what} '${path}': ${(e as Error).message}`);
  }
}

/** The config JSON from a preprocessor_config.json file or a model directory holding one. */
async function readConfig(path: string): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await read(path, '--config');
  } catch (e) {
    if (!/EISDIR/.test((e as Error).message)) throw e;
    bytes = await read(join(path, 'preprocessor_config.json'), '--config');
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`--config '${path}' is not JSON (${(e as Error).message})`);
  }
}

/** Writes next to the target, then renames: readers never see a half-written file. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new Error(`cannot write '${path}': ${(e as Error).message}`);
  }
}

export const preprocess: Command = {
  name: 'preprocess',
  summary: 'image (PNG/JPEG/DICOM) → Qwen2-VL pixel_values + image_grid_thw (.safetensors)',
  usage: [
    'usage: mede2 preprocess --image FILE --out OUT.safetensors [--config CONFIG] [--min-pixels N] [--max-pixels N]',
    '                        [--frame N] [--window-center C --window-width W]',
    '',
    '  --image          PNG, JPEG or DICOM file',
    '  --out            safetensors file to write (pixel_values F32, image_grid_thw I64)',
    "  --config         preprocessor_config.json, or a model directory holding one (default: transformers' defaults)",
    '  --min-pixels     override min_pixels (resized area lower bound)',
    '  --max-pixels     override max_pixels (resized area upper bound)',
    '  --frame          DICOM frame, 0-based (default 0)',
    "  --window-center  DICOM VOI window center, with --window-width (default: the file's window, else min..max)",
    '  --window-width   DICOM VOI window width',
  ].join('\n'),
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      image: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      'min-pixels': { type: 'string' },
      'max-pixels': { type: 'string' },
      frame: { type: 'string' },
      'window-center': { type: 'string' },
      'window-width': { type: 'string' },
    });
    if (!values.image) throw new UsageError('--image is required');
    if (!values.out) throw new UsageError('--out is required');
    const center = numberOption('window-center', values['window-center']);
    const width = numberOption('window-width', values['window-width']);
    if ((center === undefined) !== (width === undefined)) throw new UsageError('--window-center and --window-width go together');
    const config = values.config ? await readConfig(values.config) : {};
    const minPixels = numberOption('min-pixels', values['min-pixels']);
    const maxPixels = numberOption('max-pixels', values['max-pixels']);
    if (minPixels !== undefined) config.min_pixels = minPixels;
    if (maxPixels !== undefined) config.max_pixels = maxPixels;
    const processor = Qwen2VLImageProcessor.fromConfig(config);

    const image = await decode(await read(values.image, '--image'), {
      frame: numberOption('frame', values.frame),
      window: center === undefined ? undefined : { center, width: width! },
    });
    const { pixelValues, shape, imageGridThw } = await processor.preprocess(image);
    await writeAtomic(
      values.out,
      writeSafetensors({
        pixel_values: { dtype: 'F32', shape, data: pixelValues },
        image_grid_thw: { dtype: 'I64', shape: [1, 3], data: BigInt64Array.from(imageGridThw[0], BigInt) },
      }),
    );
    const [t, h, w] = imageGridThw[0];
    const p = processor.options.patchSize;
    console.log(`${values.image}: ${image.width}×${image.height}×${image.channels} → ${w * p}×${h * p}, grid [${t}, ${h}, ${w}], pixel_values [${shape}] → ${values.out}`);
  },
};
