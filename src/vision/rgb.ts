// Any decoded image → RGB8, as transformers 5.x's convert_to_rgb does it (PIL's
// Image.convert("RGB")): grey replicated, alpha dropped.
import { checkImage, type DecodedImage } from './image.js';
import { imageModule } from './wasm.js';

export async function toRgb(image: DecodedImage): Promise<DecodedImage> {
  checkImage(image, 'toRgb');
  if (image.channels === 3) return image;
  const m = await imageModule();
  const n = image.width * image.height;
  return m.scratch((a) => {
    const rgbx = a.alloc(n * 4, 'RGBX image');
    m.x.to_rgbx(a.put(image.data, 'image'), n, image.channels, rgbx);
    const out = a.alloc(n * 3, 'RGB image');
    m.x.from_rgbx(rgbx, n, 3, out);
    return { width: image.width, height: image.height, channels: 3, data: m.bytes(out, n * 3).slice() };
  });
}
