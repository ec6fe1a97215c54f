import { afterEach, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { decode } from '../../src/vision/decode.js';
import { fixture } from './fixtures.js';

// Node has no ImageData / ImageBitmap: stand-ins with their shape exercise the browser branches.
class FakeImageData {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}
class FakeImageBitmap {
  width = 2;
  height = 2;
}
const g = globalThis as Record<string, unknown>;
afterEach(() => {
  delete g.ImageData;
  delete g.ImageBitmap;
});

describe('decode input types and sniffing', () => {
  it('sniffs PNG, JPEG and DICOM from content, whatever the container', async () => {
    const png = fixture('png/pil_RGB.png');
    const want = await decode(png);
    expect(want.channels).toBe(3);
    expect((await decode(png.slice().buffer)).data).toEqual(want.data);
    expect((await decode(new Blob([png as Uint8Array<ArrayBuffer>]))).data).toEqual(want.data);
    expect((await decode(fixture('jpeg/pil_gray.jpg'))).channels).toBe(1);
    expect((await decode(fixture('dicom/rgb_planar.dcm'))).channels).toBe(3);
  });

  it('takes ImageData as RGBA', async () => {
    g.ImageData = FakeImageData;
    const rgba = new Uint8ClampedArray([1, 2, 3, 4, 5, 6, 7, 8]);
    const img = await decode(new FakeImageData(rgba, 2, 1) as unknown as ImageData);
    expect(img).toEqual({ width: 2, height: 1, channels: 4, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    expect(img.data.buffer).not.toBe(rgba.buffer);
  });

  it('needs OffscreenCanvas for ImageBitmap', async () => {
    g.ImageBitmap = FakeImageBitmap;
    await expect(decode(new FakeImageBitmap() as unknown as ImageBitmap)).rejects.toThrow(/needs OffscreenCanvas/);
  });

  it('rejects unknown formats, empty input and other types', async () => {
    await expect(decode(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/unrecognized image format/);
    await expect(decode(new Uint8Array(0))).rejects.toThrow(/empty input/);
    await expect(decode('image.png' as unknown as Uint8Array)).rejects.toThrow(/expected Uint8Array, ArrayBuffer, Blob, ImageData or ImageBitmap/);
  });
});
