// Bicubic resize identical to PIL's Image.resize(..., Image.BICUBIC) for L and RGB images.
import { checkImage, type DecodedImage } from './image.js';
import { imageModule } from './wasm.js';

export async function resizeBicubic(image: DecodedImage, width: number, height: number): Promise<DecodedImage> {
  checkImage(image, 'resizeBicubic');
  if (image.channels === 4) throw new Error('resizeBicubic: RGBA input; composite it first (PIL resizes RGBA premultiplied, which this does not model)');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`resizeBicubic: target ${width}×${height} must be positive integers`);
  }
  const m = await imageModule();
  const ch = image.channels;
  return m.scratch((a) => {
    const src = a.alloc(image.width * image.height * 4, 'resize source');
    m.x.to_rgbx(a.put(image.data, 'resize input'), image.width * image.height, ch, src);
    const dst = a.alloc(width * height * 4, 'resize output');
    m.x.resize_bicubic(src, image.width, image.height, dst, width, height);
    const out = a.alloc(width * height * ch, 'resize result');
    m.x.from_rgbx(dst, width * height, ch, out);
    return { width, height, channels: ch, data: m.bytes(out, width * height * ch).slice() };
  });
}
