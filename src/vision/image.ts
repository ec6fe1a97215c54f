// The decoded-image type every decoder returns and the processor takes.

/** 8-bit pixels, row-major and interleaved: 1 = grey (L), 3 = RGB, 4 = RGBA (straight alpha). */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Checks that `data` holds width × height × channels bytes, naming the caller on failure. */
export function checkImage(image: DecodedImage, who: string): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`${who}: image is ${width}×${height}; both sides must be positive integers`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`${who}: channels must be 1, 3 or 4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`${who}: data has ${data.length} bytes, a ${width}×${height}×${channels} image needs ${width * height * channels}`);
  }
}

/** PIL's decompression-bomb limit (2 × Image.MAX_IMAGE_PIXELS): larger images are refused. */
export const MAX_PIXELS = 2 * 89_478_485;

/** Rejects zero-size and oversized images before anything is allocated for them. */
export function checkSize(format: string, width: number, height: number): void {
  if (width <= 0 || height <= 0) throw new Error(`${format}: zero-size image (${width}×${height})`);
  if (width * height > MAX_PIXELS) {
    throw new Error(`${format}: ${width}×${height} = ${width * height} pixels is over the ${MAX_PIXELS} limit (decompression bomb guard)`);
  }
}
