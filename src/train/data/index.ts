// SFT data: JSONL records → conversations → token ids with assistant-only labels.
export { type DataIssue, DataError, formatIssue } from './issues.js';
export { DEFAULT_RESPONSE_TEMPLATE, renderResponse, type SftExample } from './records.js';
export { parseSftJsonl, readSftJsonl, type ReadSftOptions, type SftData } from './jsonl.js';
export { IGNORE_INDEX, tokenizeSft, type ImageGrid, type SftSample, type SftTokenized, type TokenizeSftOptions, type Truncation } from './tokenize.js';
export { imageGridLookup } from './images.js';
