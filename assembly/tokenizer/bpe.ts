// The BPE model of Hugging Face `tokenizers` on raw bytes: a byte-level word's symbols are
// its bytes (one mapped char each), merged lowest rank first, leftmost on ties — the order
// of its merge queue. Bytes missing from the vocab become byte-fallback tokens, an unk
// (fused when asked), or nothing, as the loader decided per byte.
//
// Tables live in linear memory: merges (pair → rank, id) and the vocab (bytes → id, for
// ignore_merges) are open-addressing hash tables; a cache maps recent words to their tokens.

// ---------------------------------------------------------------- output
export let outIds: usize = 0;
export let outStart: usize = 0;
export let outEnd: usize = 0;
export let outCount: u32 = 0;
let outCap: u32 = 0;

/** Makes room for `n` more tokens (called once per encode with the worst case). */
export function reserveOut(n: u32): void {
  if (outCap >= n) return;
  let cap = outCap ? outCap : 1024;
  while (cap < n) cap <<= 1;
  if (outIds) {
    heap.free(outIds);
    heap.free(outStart);
    heap.free(outEnd);
  }
  outIds = heap.alloc(<usize>cap << 2);
  outStart = heap.alloc(<usize>cap << 2);
  outEnd = heap.alloc(<usize>cap << 2);
  outCap = cap;
}

// @ts-ignore: decorator
@inline
function emit(id: u32, start: usize, end: usize): void {
  const o = <usize>outCount << 2;
  store<u32>(outIds + o, id);
  store<u32>(outStart + o, <u32>start);
  store<u32>(outEnd + o, <u32>end);
  outCount++;
}

// ---------------------------------------------------------------- bytes → initial symbols
// Per byte, 4 u32: [kind, count, id0, id1]: kind 1 = in the vocab (id0), 2 = byte fallback
// (count ids), 3 = unk (id0), 0 = dropped.
let byteTable: usize = 0;
let fuseUnk = false;
/** Most tokens one input byte can become (2 with byte fallback of a 2-byte mapped char): sizes the output. */
export let tokensPerByte: u32 = 1;

export function setByteTable(ptr: usize, fuse: bool): void {
  if (!byteTable) byteTable = heap.alloc(256 * 16);
  memory.copy(byteTable, ptr, 256 * 16);
  fuseUnk = fuse;
  tokensPerByte = 1;
  for (let b = 0; b < 256; b++) tokensPerByte = max(tokensPerByte, load<u32>(byteTable + (<usize>b << 4), 4));
}

// ---------------------------------------------------------------- hashing
// @ts-ignore: decorator
@inline
function mix64(k: u64): u64 {
  return k * 0x9e3779b97f4a7c15;
}

function hashBytes(p: usize, n: usize): u32 {
  let h: u32 = 0x811c9dc5 ^ <u32>n;
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) h = (h ^ load<u32>(p + i)) * 0x01000193 + (h >>> 15);
  for (; i < n; i++) h = (h ^ <u32>load<u8>(p + i)) * 0x01000193;
  return h ^ (h >>> 16);
}

function sameBytes(a: usize, b: usize, n: usize): bool {
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

// ---------------------------------------------------------------- merges
const EMPTY: u64 = 0xffffffffffffffff;
let mergeKeys: usize = 0;
let mergeVals: usize = 0;
let mergeMask: u32 = 0;
let mergeShift: u64 = 0;

/** Merges as [a, b, merged] id triples; rank = index, and a repeated pair keeps its last rank (as a map insert does). */
export function setMerges(ptr: usize, count: u32): void {
  let bits: u32 = 4;
  while ((<u32>1 << bits) < count * 2) bits++;
  const slots = <usize>1 << bits;
  if (mergeKeys) {
    heap.free(mergeKeys);
    heap.free(mergeVals);
  }
  mergeKeys = heap.alloc(slots << 3);
  mergeVals = heap.alloc(slots << 3);
  memory.fill(mergeKeys, 0xff, slots << 3);
  mergeMask = <u32>slots - 1;
  mergeShift = 64 - <u64>bits;
  for (let r: u32 = 0; r < count; r++) {
    const t = ptr + <usize>r * 12;
    const key = (<u64>load<u32>(t) << 32) | <u64>load<u32>(t, 4);
    let s = <u32>(mix64(key) >>> mergeShift);
    for (;;) {
      const k = load<u64>(mergeKeys + (<usize>s << 3));
      if (k == EMPTY || k == key) break;
      s = (s + 1) & mergeMask;
    }
    store<u64>(mergeKeys + (<usize>s << 3), key);
    store<u64>(mergeVals + (<usize>s << 3), (<u64>r << 32) | <u64>load<u32>(t, 8));
  }
}

/** (rank << 32 | merged id) of the pair, or EMPTY. */
// @ts-ignore: decorator
@inline
function mergeOf(a: u32, b: u32): u64 {
  const key = (<u64>a << 32) | <u64>b;
  let s = <u32>(mix64(key) >>> mergeShift);
  for (;;) {
    const k = load<u64>(mergeKeys + (<usize>s << 3));
    if (k == key) return load<u64>(mergeVals + (<usize>s << 3));
    if (k == EMPTY) return EMPTY;
    s = (s + 1) & mergeMask;
  }
  return EMPTY;
}

// ---------------------------------------------------------------- vocab (ignore_merges)
// Slots of 4 u32: [hash, offset into the byte arena, length (0 = empty), id].
let vocabSlots: usize = 0;
let vocabMask: u32 = 0;
let vocabBytes: usize = 0;
let ignoreMerges = false;

/** Token byte strings (concatenated at `bytes`, `count + 1` offsets) and their ids. */
export function setVocab(bytes: usize, offsets: usize, ids: usize, count: u32): void {
  ignoreMerges = true;
  const total = load<u32>(offsets + (<usize>count << 2));
  vocabBytes = heap.alloc(max<usize>(total, 1));
  memory.copy(vocabBytes, bytes, total);
  let slots: u32 = 16;
  while (slots < count * 2) slots <<= 1;
  vocabSlots = heap.alloc(<usize>slots << 4);
  memory.fill(vocabSlots, 0, <usize>slots << 4);
  vocabMask = slots - 1;
  for (let i: u32 = 0; i < count; i++) {
    const off = load<u32>(offsets + (<usize>i << 2));
    const len = load<u32>(offsets + (<usize>i << 2), 4) - off;
    if (!len) continue;
    const h = hashBytes(vocabBytes + off, len);
    let s = h & vocabMask;
    while (load<u32>(vocabSlots + (<usize>s << 4), 8)) s = (s + 1) & vocabMask;
    const e = vocabSlots + (<usize>s << 4);
    store<u32>(e, h);
    store<u32>(e, off, 4);
    store<u32>(e, len, 8);
    store<u32>(e, load<u32>(ids + (<usize>i << 2)), 12);
  }
}

function vocabLookup(p: usize, n: usize): i64 {
  const h = hashBytes(p, n);
  let s = h & vocabMask;
  for (;;) {
    const e = vocabSlots + (<usize>s << 4);
    const len = load<u32>(e, 8);
    if (!len) return -1;
    if (load<u32>(e) == h && len == n && sameBytes(vocabBytes + load<u32>(e, 4), p, n)) return load<u32>(e, 12);
    s = (s + 1) & vocabMask;
  }
  return -1;
}

// ---------------------------------------------------------------- word cache
// Slots of 4 u32: [hash, key offset, key length (0 = empty), value offset]; a value is
// [count, pad, (id, relStart | relEnd << 16) * count]. Cleared whole when an arena fills.
const CACHE_SLOTS: u32 = 1 << 16;
const CACHE_MAX_WORD: usize = 128;
const KEY_ARENA: u32 = 2 << 20;
const VAL_ARENA: u32 = 8 << 20;
let cacheSlots: usize = 0;
let keyArena: usize = 0;
let valArena: usize = 0;
let keyUsed: u32 = 0;
let valUsed: u32 = 0;
let cacheCount: u32 = 0;

export function clearCache(): void {
  if (!cacheSlots) {
    cacheSlots = heap.alloc(<usize>CACHE_SLOTS << 4);
    keyArena = heap.alloc(KEY_ARENA);
    valArena = heap.alloc(VAL_ARENA);
  }
  memory.fill(cacheSlots, 0, <usize>CACHE_SLOTS << 4);
  keyUsed = 0;
  valUsed = 8;
  cacheCount = 0;
}

// ---------------------------------------------------------------- merging one word
// Symbols: id, byte range, linked list; the queue holds (rank << 32 | position) keys.
let symCap: u32 = 0;
let symId: usize = 0;
let symStart: usize = 0;
let symEnd: usize = 0;
let symPrev: usize = 0;
let symNext: usize = 0;
let queue: usize = 0;
let queueLen: u32 = 0;

function reserveSymbols(n: u32): void {
  if (symCap >= n) return;
  let cap = symCap ? symCap : 256;
  while (cap < n) cap <<= 1;
  if (symId) {
    heap.free(symId);
    heap.free(symStart);
    heap.free(symEnd);
    heap.free(symPrev);
    heap.free(symNext);
    heap.free(queue);
  }
  symId = heap.alloc(<usize>cap << 2);
  symStart = heap.alloc(<usize>cap << 2);
  symEnd = heap.alloc(<usize>cap << 2);
  symPrev = heap.alloc(<usize>cap << 2);
  symNext = heap.alloc(<usize>cap << 2);
  queue = heap.alloc(<usize>cap << 4); // each merge pops one entry and pushes at most two: ≤ 2 per symbol
  symCap = cap;
}

// @ts-ignore: decorator
@inline
function sym(base: usize, i: u32): u32 {
  return load<u32>(base + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline
function setSym(base: usize, i: u32, v: u32): void {
  store<u32>(base + (<usize>i << 2), v);
}

function push(key: u64): void {
  let i = queueLen++;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pk = load<u64>(queue + (<usize>parent << 3));
    if (pk <= key) break;
    store<u64>(queue + (<usize>i << 3), pk);
    i = parent;
  }
  store<u64>(queue + (<usize>i << 3), key);
}

function pop(): u64 {
  const top = load<u64>(queue);
  const last = load<u64>(queue + (<usize>--queueLen << 3));
  let i: u32 = 0;
  const n = queueLen;
  for (;;) {
    let c: u32 = 2 * i + 1;
    if (c >= n) break;
    let ck = load<u64>(queue + (<usize>c << 3));
    if (c + 1 < n) {
      const rk = load<u64>(queue + (<usize>(c + 1) << 3));
      if (rk < ck) {
        c++;
        ck = rk;
      }
    }
    if (last <= ck) break;
    store<u64>(queue + (<usize>i << 3), ck);
    i = c;
  }
  store<u64>(queue + (<usize>i << 3), last);
  return top;
}

const NONE: u32 = 0xffffffff;

function queuePair(left: u32): void {
  const right = sym(symNext, left);
  if (right == NONE) return;
  const m = mergeOf(sym(symId, left), sym(symId, right));
  if (m != EMPTY) push((m & 0xffffffff00000000) | <u64>left);
}

/** Initial symbols of the word [p, end): one per byte, or that byte's fallback/unk. Returns the count. */
function initialSymbols(p: usize, end: usize): u32 {
  let n: u32 = 0;
  let unkId: u32 = NONE;
  let unkStart: usize = 0;
  let unkEnd: usize = 0;
  for (let q = p; q < end; q++) {
    const e = byteTable + (<usize>load<u8>(q) << 4);
    const kind = load<u32>(e);
    if (kind == 3) {
      if (unkId != NONE && fuseUnk) {
        unkEnd = q + 1;
        continue;
      }
      if (unkId != NONE) {
        setSym(symId, n, unkId);
        setSym(symStart, n, <u32>unkStart);
        setSym(symEnd, n++, <u32>unkEnd);
      }
      unkId = load<u32>(e, 8);
      unkStart = q;
      unkEnd = q + 1;
      continue;
    }
    if (kind == 1 && unkId != NONE) {
      // an in-vocab char flushes a pending unk; byte-fallback tokens do not (as in tokenizers)
      setSym(symId, n, unkId);
      setSym(symStart, n, <u32>unkStart);
      setSym(symEnd, n++, <u32>unkEnd);
      unkId = NONE;
    }
    const count = load<u32>(e, 4);
    for (let k: u32 = 0; k < count; k++) {
      setSym(symId, n, load<u32>(e + 8 + (<usize>k << 2)));
      setSym(symStart, n, <u32>q);
      setSym(symEnd, n++, <u32>(q + 1));
    }
  }
  if (unkId != NONE) {
    setSym(symId, n, unkId);
    setSym(symStart, n, <u32>unkStart);
    setSym(symEnd, n++, <u32>unkEnd);
  }
  return n;
}

/** Merges symbols [0, n) in place; symbol 0 always survives (a merge keeps its left side). */
function mergeSymbols(n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    setSym(symPrev, i, i == 0 ? NONE : i - 1);
    setSym(symNext, i, i + 1 == n ? NONE : i + 1);
  }
  queueLen = 0;
  for (let i: u32 = 0; i + 1 < n; i++) queuePair(i);
  while (queueLen) {
    const top = pop();
    const left = <u32>top;
    if (sym(symId, left) == NONE) continue; // merged into its left neighbour
    const right = sym(symNext, left);
    if (right == NONE) continue;
    const m = mergeOf(sym(symId, left), sym(symId, right));
    if (m == EMPTY || (m >>> 32) != (top >>> 32)) continue; // stale: the pair changed since it was queued
    setSym(symId, left, <u32>m);
    setSym(symEnd, left, sym(symEnd, right));
    const after = sym(symNext, right);
    setSym(symNext, left, after);
    if (after != NONE) setSym(symPrev, after, left);
    setSym(symId, right, NONE);
    const before = sym(symPrev, left);
    if (before != NONE) queuePair(before);
    queuePair(left);
  }
}

/** Tokens of one pre-token [p, end) of the input, appended to the output. */
export function encodeWord(p: usize, end: usize): void {
  const n = end - p;
  if (n == 1) {
    const e = byteTable + (<usize>load<u8>(p) << 4);
    if (load<u32>(e) == 1) {
      emit(load<u32>(e, 8), p, end);
      return;
    }
  }
  if (ignoreMerges) {
    const id = vocabLookup(p, n);
    if (id >= 0) {
      emit(<u32>id, p, end);
      return;
    }
  }
  let slot: usize = 0;
  let h: u32 = 0;
  if (n <= CACHE_MAX_WORD) {
    h = hashBytes(p, n);
    let s = h & (CACHE_SLOTS - 1);
    for (;;) {
      slot = cacheSlots + (<usize>s << 4);
      const len = load<u32>(slot, 8);
      if (!len) break;
      if (load<u32>(slot) == h && len == <u32>n && sameBytes(keyArena + load<u32>(slot, 4), p, n)) {
        let v = valArena + load<u32>(slot, 12);
        const count = load<u32>(v);
        for (let i: u32 = 0; i < count; i++) {
          v += 8;
          const rel = load<u32>(v, 4);
          emit(load<u32>(v), p + (rel & 0xffff), p + (rel >>> 16));
        }
        return;
      }
      s = (s + 1) & (CACHE_SLOTS - 1);
    }
  }
  reserveSymbols(<u32>n * 2 + 2);
  const count = initialSymbols(p, end);
  if (!count) return;
  mergeSymbols(count);
  const first = outCount;
  for (let i: u32 = 0; i != NONE; i = sym(symNext, i)) emit(sym(symId, i), sym(symStart, i), sym(symEnd, i));
  if (n > CACHE_MAX_WORD) return;
  const tokens = outCount - first;
  const need = 8 + tokens * 8;
  if (keyUsed + <u32>n > KEY_ARENA || valUsed + need > VAL_ARENA || cacheCount * 2 >= CACHE_SLOTS) {
    clearCache();
    // the slot found above belonged to the old table: find a fresh one
    let s = h & (CACHE_SLOTS - 1);
    slot = cacheSlots + (<usize>s << 4);
  }
  memory.copy(keyArena + keyUsed, p, n);
  store<u32>(slot, h);
  store<u32>(slot, keyUsed, 4);
  store<u32>(slot, <u32>n, 8);
  store<u32>(slot, valUsed, 12);
  keyUsed += <u32>n;
  cacheCount++;
  let v = valArena + valUsed;
  store<u32>(v, tokens);
  for (let t: u32 = 0; t < tokens; t++) {
    v += 8;
    const o = <usize>(first + t) << 2;
    store<u32>(v, load<u32>(outIds + o));
    store<u32>(v, (load<u32>(outStart + o) - <u32>p) | ((load<u32>(outEnd + o) - <u32>p) << 16), 4);
  }
  valUsed += need;
}
