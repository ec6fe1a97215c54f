// The splitting patterns of the byte-level BPE tokenizers we load, written out as matchers
// with the regex semantics (leftmost-first alternation, greedy quantifiers, backtracking
// where it matters). Each returns the end of the match that starts at p, where [p, end)
// is the current piece: the regex sees `end` as the end of the text.
//
//  GPT2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//  QWEN2:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//  LLAMA3: QWEN2 with \p{N}{1,3}
// Every code point starts a match of these patterns, so the matches tile the piece.
// The Digits pre-tokenizer (\p{N} chars isolated one by one, or as runs) is here too.
import { LETTER, NUMBER, OTHER, SPACE, classAt, codePointAt, cpLen } from './classes';

export const STEP_GPT2: u32 = 1;
export const STEP_QWEN2: u32 = 2;
export const STEP_LLAMA3: u32 = 3;
export const STEP_DIGITS_EACH: u32 = 4;
export const STEP_DIGITS_RUNS: u32 = 5;

const CR: u32 = 0x0d;
const LF: u32 = 0x0a;

/** End of the run of class `cls` starting at p. */
function runOf(cls: u32, p: usize, end: usize): usize {
  while (p < end) {
    if (classAt(p) != cls) break;
    p += cpLen;
  }
  return p;
}

function crlfRun(p: usize, end: usize): usize {
  while (p < end) {
    const b = <u32>load<u8>(p);
    if (b != CR && b != LF) break;
    p++;
  }
  return p;
}

// @ts-ignore: decorator
@inline
function lower(b: u32): u32 {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** After an apostrophe at p-1: end of 's|'t|'re|'ve|'m|'ll|'d, or 0. `fold` is (?i:…), where ſ is an s. */
function contraction(p: usize, end: usize, fold: bool): usize {
  if (p >= end) return 0;
  let a = <u32>load<u8>(p);
  if (fold) {
    if (a == 0xc5 && p + 1 < end && load<u8>(p, 1) == 0xbf) return p + 2; // U+017F folds to s
    a = lower(a);
  }
  if (a == 0x73 || a == 0x74 || a == 0x6d || a == 0x64) return p + 1; // s t m d
  if (p + 1 >= end) return 0;
  let b = <u32>load<u8>(p, 1);
  if (fold) b = lower(b);
  if ((a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6c && b == 0x6c)) return p + 2; // re ve ll
  return 0;
}

/** \s+(?!\S)|\s+ at p (a space char): the run, less its last char when a non-space follows. */
function spaces(p: usize, end: usize): usize {
  let q = p;
  let last = p;
  while (q < end) {
    if (classAt(q) != SPACE) break;
    last = q;
    q += cpLen;
  }
  if (q == end || last == p) return q;
  return last;
}

function matchGpt2(p: usize, end: usize): usize {
  const b = <u32>load<u8>(p);
  if (b == 0x27) {
    const m = contraction(p + 1, end, false);
    if (m) return m;
  }
  if (b == 0x20 && p + 1 < end) {
    const next = classAt(p + 1);
    if (next != SPACE) return runOf(next, p + 1, end);
  }
  const cls = classAt(p);
  if (cls != SPACE) return runOf(cls, p, end);
  return spaces(p, end);
}

function matchQwen(p: usize, end: usize, maxDigits: i32): usize {
  const b = <u32>load<u8>(p);
  if (b == 0x27) {
    const m = contraction(p + 1, end, true);
    if (m) return m;
  }
  const cls = classAt(p);
  const len = cpLen;
  if (cls == LETTER) return runOf(LETTER, p, end);
  // [^\r\n\p{L}\p{N}]?\p{L}+ with the optional char present
  if (cls != NUMBER && b != CR && b != LF && p + len < end && classAt(p + len) == LETTER) return runOf(LETTER, p + len, end);
  if (cls == NUMBER) {
    let q = p + len;
    for (let i = 1; i < maxDigits && q < end; i++) {
      if (classAt(q) != NUMBER) break;
      q += cpLen;
    }
    return q;
  }
  // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
  if (b == 0x20 && p + 1 < end && classAt(p + 1) == OTHER) return crlfRun(runOf(OTHER, p + 1, end), end);
  if (cls == OTHER) return crlfRun(runOf(OTHER, p, end), end);
  // `\s*[\r\n]+`: the space run up to its last CR/LF, when it has one
  let q = p;
  let nl: usize = 0;
  while (q < end) {
    if (classAt(q) != SPACE) break;
    const c = <u32>load<u8>(q);
    if (c == CR || c == LF) nl = q + 1;
    q += cpLen;
  }
  if (nl) return nl;
  return spaces(p, end);
}

function matchDigits(p: usize, end: usize, each: bool): usize {
  const isNum = classAt(p) == NUMBER;
  if (isNum && each) return p + cpLen;
  let q = p;
  while (q < end) {
    if ((classAt(q) == NUMBER) != isNum) break;
    q += cpLen;
  }
  return q;
}

/** End of the piece that `step` cuts at p, within [p, end). */
export function matchAt(step: u32, p: usize, end: usize): usize {
  let q: usize;
  if (step == STEP_GPT2) q = matchGpt2(p, end);
  else if (step == STEP_QWEN2) q = matchQwen(p, end, 1);
  else if (step == STEP_LLAMA3) q = matchQwen(p, end, 3);
  else q = matchDigits(p, end, step == STEP_DIGITS_EACH);
  if (q <= p) {
    codePointAt(p); // cannot happen with these patterns; keep the tiling total anyway
    q = p + cpLen;
  }
  return q;
}
