// Image grids for tokenization: each distinct image of the examples is read and decoded once,
// and the Qwen2-VL processor's resize rule gives its patch grid [1, H/patch, W/patch] (what
// preprocess() reports as image_grid_thw), without patchifying it. An image that cannot be read
// or decoded makes the lookup throw, which tokenizeSft reports with the example's file:line.
import { platform } from '../../platform/platform.js';
import { decode } from '../../vision/decode.js';
import type { Qwen2VLImageProcessor } from '../../vision/qwen2vl.js';
import type { SftExample } from './records.js';
import type { ImageGrid } from './tokenize.js';

export async function imageGridLookup(
  examples: SftExample[],
  processor: Qwen2VLImageProcessor,
  read: (path: string) => Promise<Uint8Array> = platformRead(),
): Promise<(path: string) => ImageGrid> {
  const grids = new Map<string, ImageGrid | Error>();
  const { patchSize } = processor.options;
  for (const path of new Set(examples.flatMap((e) => e.images))) {
    try {
      const image = await decode(await read(path));
      const [h, w] = processor.targetSize(image.height, image.width);
      grids.set(path, [1, h / patchSize, w / patchSize]);
    } catch (e) {
      grids.set(path, new Error(`image ${path}: ${(e as Error).message}`));
    }
  }
  return (path) => {
    const g = grids.get(path);
    if (g === undefined) throw new Error(`image ${path} was not among the examples given to imageGridLookup`);
    if (g instanceof Error) throw g;
    return g;
  };
}

function platformRead(): (path: string) => Promise<Uint8Array> {
  const p = platform();
  if (!p.readFile) throw new Error(`imageGridLookup: the ${p.name} platform cannot read files; pass a read function (e.g. over File objects)`);
  return p.readFile.bind(p);
}
