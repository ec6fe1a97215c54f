// Byte-level BPE tokenizer (Hugging Face tokenizer.json semantics) over UTF-8 in linear
// memory. The TS side (src/text/) parses tokenizer.json, splits out added tokens and
// normalizes; this module pre-tokenizes (splitting steps in order) and runs BPE, writing
// ids and byte ranges to its output arrays. No managed objects: everything is raw memory.
import { initClasses } from './classes';
import { matchAt } from './pretokenize';
import { clearCache, encodeWord, outCount, outEnd, outIds, outStart, reserveOut, tokensPerByte } from './bpe';

export { setByteTable, setMerges, setVocab } from './bpe';

export function alloc(bytes: usize): usize {
  return heap.alloc(bytes < 16 ? 16 : bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

const MAX_STEPS = 8;
const steps = memory.data(MAX_STEPS * 4);
let stepCount: u32 = 0;

/** Splitting steps (STEP_* codes of pretokenize.ts), applied one inside the other. */
export function setSteps(ptr: usize, count: u32): void {
  if (count > <u32>MAX_STEPS) abort('tokenizer: too many pre-tokenizer steps');
  memory.copy(steps, ptr, <usize>count << 2);
  stepCount = count;
  initClasses();
  clearCache();
}

let input: usize = 0;
let inputCap: usize = 0;

/** The input buffer, grown to hold `bytes`; its address changes only when it grows. */
export function inputBuffer(bytes: usize): usize {
  if (inputCap < bytes || !input) {
    if (input) heap.free(input);
    inputCap = max<usize>(bytes, 4096);
    input = heap.alloc(inputCap);
  }
  return input;
}

function split(step: u32, p: usize, end: usize): void {
  if (step == stepCount) {
    encodeWord(p, end);
    return;
  }
  const kind = load<u32>(steps + (<usize>step << 2));
  while (p < end) {
    const q = matchAt(kind, p, end);
    split(step + 1, p, q);
    p = q;
  }
}

/** Tokenizes input[0, bytes); returns the token count. Ranges are addresses into the input. */
export function encode(bytes: usize): u32 {
  reserveOut(<u32>bytes * tokensPerByte + 8);
  outCount = 0;
  split(0, input, input + bytes);
  return outCount;
}

export function resultIds(): usize {
  return outIds;
}
export function resultStarts(): usize {
  return outStart;
}
export function resultEnds(): usize {
  return outEnd;
}
