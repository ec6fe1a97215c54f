// Qwen2-VL / Qwen2.5-VL: loading, the model, generation, PEFT adapters and checkpoint saving.
export { parseQwenVLConfig, type QwenVLConfig, type QwenVLKind, type TextConfig, type VisionConfig } from './config.js';
export { QwenVL, type ForwardInputs, type ForwardOutputs, type FreezeOptions, type LoadOptions, type LoraTarget } from './model.js';
export { loadQwenVL } from './load.js';
export { generate, type GenerateOptions, type GenerateResult } from './generate.js';
export { loadPeftAdapter, savePeftAdapter, peftAdapterFiles, parseAdapterConfig, adapterConfigJson, ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './adapter.js';
export { saveQwenVL, DEFAULT_MAX_SHARD_BYTES, type SaveDtype, type SaveOptions } from './save.js';
export type { Grid } from './vision.js';
export { LoraAdapters, DEFAULT_LORA, ALL_LINEAR, type LoraConfig } from '../../nn/lora.js';
export { dirFileSet, blobFileSet, type FileSet } from '../../io/fileset.js';
