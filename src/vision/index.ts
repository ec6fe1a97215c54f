// Image input: decoders (PNG, JPEG, DICOM) and the Qwen2-VL image processor.
export type { DecodedImage } from './image.js';
export { decode, type ImageDecodeOptions, type ImageSource } from './decode.js';
export type { DicomOptions, DicomWindow } from './dicom.js';
export { resizeBicubic } from './resize.js';
export { toRgb } from './rgb.js';
export { smartResize } from './smart-resize.js';
export {
  Qwen2VLImageProcessor, QWEN2VL_DEFAULTS, qwen2vlOptionsFromConfig,
  type Qwen2VLBatch, type Qwen2VLImageProcessorOptions,
} from './qwen2vl.js';
