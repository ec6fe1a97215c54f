// Text: Hugging Face byte-level BPE tokenizers and chat templates.
export { Tokenizer, Encoding, type EncodeOptions, type DecodeOptions, type TokenizerExtras } from './tokenizer.js';
export { expandVisionPlaceholders, type ChatMessage, type ChatContent, type ChatTemplateOptions } from './chat.js';
