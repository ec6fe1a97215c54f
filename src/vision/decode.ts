// decode(): PNG, JPEG or DICOM bytes (or a Blob) → DecodedImage, sniffed from the content; in the
// browser also ImageData and ImageBitmap (read back through an OffscreenCanvas).
import { checkSize, type DecodedImage } from './image.js';
import { decodePng, isPng } from './png.js';
import { decodeJpeg, isJpeg } from './jpeg.js';
import { decodeDicom, isDicom, type DicomOptions } from './dicom.js';
import { imageModule } from './wasm.js';

export type ImageSource = Uint8Array | ArrayBuffer | Blob | ImageData | ImageBitmap;
export type ImageDecodeOptions = DicomOptions;

function fromRgba(width: number, height: number, rgba: Uint8ClampedArray): DecodedImage {
  checkSize('ImageData', width, height);
  return { width, height, channels: 4, data: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength).slice() };
}

/** Decodes an image; `options` apply to DICOM (frame, window). */
export async function decode(input: ImageSource, options: ImageDecodeOptions = {}): Promise<DecodedImage> {
  if (typeof ImageData !== 'undefined' && input instanceof ImageData) return fromRgba(input.width, input.height, input.data);
  if (typeof ImageBitmap !== 'undefined' && input instanceof ImageBitmap) {
    if (typeof OffscreenCanvas === 'undefined') throw new Error('decode: ImageBitmap input needs OffscreenCanvas, which this runtime lacks');
    const canvas = new OffscreenCanvas(input.width, input.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('decode: no 2d context on OffscreenCanvas to read the ImageBitmap');
    ctx.drawImage(input, 0, 0);
    return fromRgba(input.width, input.height, ctx.getImageData(0, 0, input.width, input.height).data);
  }
  let bytes: Uint8Array;
  if (input instanceof Uint8Array) bytes = input;
  else if (input instanceof ArrayBuffer) bytes = new Uint8Array(input);
  else if (typeof Blob !== 'undefined' && input instanceof Blob) bytes = new Uint8Array(await input.arrayBuffer());
  else throw new Error('decode: expected Uint8Array, ArrayBuffer, Blob, ImageData or ImageBitmap');
  const m = await imageModule();
  if (isPng(bytes)) return decodePng(bytes, m);
  if (isJpeg(bytes)) return decodeJpeg(bytes, m);
  if (isDicom(bytes)) return decodeDicom(bytes, m, options);
  if (!bytes.length) throw new Error('decode: empty input');
  throw new Error("decode: unrecognized image format; expected PNG, JPEG or DICOM Part 10 (128-byte preamble then 'DICM')");
}
