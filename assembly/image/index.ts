// The image module: decoding and Qwen2-VL preprocessing kernels, driven by src/vision/.
export { alloc, free } from '../kernels/memory';
export * from './png';
export * from './jpeg_entropy';
export * from './jpeg_output';
export * from './resample';
export * from './pixels';
export * from './dicom';
