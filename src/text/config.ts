// Reads a Hugging Face tokenizer.json into the plan our BPE engine runs, checking every
// component against what we implement: anything else is a clear error naming the field,
// never a silent difference.
import { byteChar, tokenBytes } from './bytelevel.js';

export interface AddedTokenSpec {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export type NormalForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

/** Pre-tokenizer splitting steps, in order; codes match assembly/tokenizer/pretokenize.ts. */
export const Step = { gpt2: 1, qwen2: 2, llama3: 3, digitsEach: 4, digitsRuns: 5 } as const;

export type Decoder = { type: 'ByteLevel' } | { type: 'ByteFallback' };

export interface PostProcessor {
  /** ByteLevel's trim_offsets, with its add_prefix_space (which only changes the first token's trim). */
  trimOffsets?: { addPrefixSpace: boolean };
  /** TemplateProcessing for one sequence: ids before and after it (when add_special_tokens). */
  template?: { before: number[]; after: number[] };
}

export interface TokenizerSpec {
  vocab: Map<string, number>;
  /** Merges as [a, b, merged] id triples, in rank order. */
  merges: Uint32Array;
  added: AddedTokenSpec[];
  normalizers: NormalForm[];
  steps: number[];
  /** Per byte: [kind, count, id0, id1] — 1 in vocab, 2 byte fallback, 3 unk, 0 dropped. */
  byteTable: Uint32Array;
  fuseUnk: boolean;
  ignoreMerges: boolean;
  post: PostProcessor;
  decoders: Decoder[];
}

export const PATTERNS: Record<string, number> = {
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": Step.qwen2,
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": Step.llama3,
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+": Step.gpt2,
};

type Json = Record<string, unknown>;

function fail(where: string, msg: string): never {
  throw new Error(`${where}: ${msg}`);
}

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'expected an object');
  return v as Json;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, 'expected an array');
  return v;
}

function flag(v: unknown, fallback: boolean): boolean {
  return v === undefined || v === null ? fallback : Boolean(v);
}

function parseNormalizer(v: unknown, where: string, out: NormalForm[]): void {
  if (v === null || v === undefined) return;
  const n = obj(v, where);
  if (n.type === 'Sequence') {
    list(n.normalizers, `${where}.normalizers`).forEach((x, i) => parseNormalizer(x, `${where}.normalizers[${i}]`, out));
    return;
  }
  if (n.type === 'NFC' || n.type === 'NFD' || n.type === 'NFKC' || n.type === 'NFKD') out.push(n.type);
  else fail(where, `normalizer '${String(n.type)}' is not supported (NFC, NFD, NFKC, NFKD and Sequence are)`);
}

/** Splitting steps; returns whether a ByteLevel pre-tokenizer ended the chain. */
function parsePreTokenizer(v: unknown, where: string, steps: number[]): boolean {
  const p = obj(v, where);
  switch (p.type) {
    case 'Sequence': {
      const items = list(p.pretokenizers, `${where}.pretokenizers`);
      let byteLevel = false;
      items.forEach((x, i) => {
        if (byteLevel) fail(`${where}.pretokenizers[${i}]`, 'nothing may follow the ByteLevel pre-tokenizer');
        byteLevel = parsePreTokenizer(x, `${where}.pretokenizers[${i}]`, steps);
      });
      return byteLevel;
    }
    case 'ByteLevel':
      if (flag(p.add_prefix_space, true)) fail(where, 'ByteLevel add_prefix_space=true is not supported');
      if (flag(p.use_regex, true)) steps.push(Step.gpt2);
      return true;
    case 'Split': {
      const pat = obj(p.pattern, `${where}.pattern`);
      if (typeof pat.Regex !== 'string') fail(`${where}.pattern`, 'only {"Regex": ...} patterns are supported');
      const step = PATTERNS[pat.Regex];
      if (step === undefined)
        fail(`${where}.pattern.Regex`, `unsupported split pattern ${JSON.stringify(pat.Regex)}; supported: the GPT-2, Qwen2 and Llama-3 patterns`);
      if (p.behavior !== 'Isolated' || flag(p.invert, false)) fail(where, 'only behavior "Isolated" with invert=false is supported');
      steps.push(step);
      return false;
    }
    case 'Digits':
      steps.push(flag(p.individual_digits, false) ? Step.digitsEach : Step.digitsRuns);
      return false;
    default:
      fail(where, `pre-tokenizer '${String(p.type)}' is not supported (ByteLevel, Split, Digits and Sequence are)`);
  }
}

function parsePost(v: unknown, where: string, tokenId: (t: string) => number | undefined, out: PostProcessor): void {
  if (v === null || v === undefined) return;
  const p = obj(v, where);
  switch (p.type) {
    case 'Sequence':
      list(p.processors, `${where}.processors`).forEach((x, i) => parsePost(x, `${where}.processors[${i}]`, tokenId, out));
      return;
    case 'ByteLevel':
      if (flag(p.trim_offsets, true)) out.trimOffsets = { addPrefixSpace: flag(p.add_prefix_space, true) };
      return;
    case 'TemplateProcessing': {
      const specials = obj(p.special_tokens ?? {}, `${where}.special_tokens`);
      const before: number[] = [];
      const after: number[] = [];
      let seen = false;
      list(p.single, `${where}.single`).forEach((piece, i) => {
        const at = `${where}.single[${i}]`;
        const o = obj(piece, at);
        if (o.Sequence) {
          if (obj(o.Sequence, at).id !== 'A') fail(at, 'a single-sequence template must use sequence A');
          seen = true;
        } else if (o.SpecialToken) {
          const name = String(obj(o.SpecialToken, at).id);
          const s = specials[name] === undefined ? undefined : obj(specials[name], `${where}.special_tokens.${name}`);
          const ids = s ? list(s.ids, `${where}.special_tokens.${name}.ids`).map(Number) : [tokenId(name)];
          if (ids.some((x) => x === undefined || !Number.isInteger(x))) fail(at, `special token '${name}' has no id`);
          (seen ? after : before).push(...(ids as number[]));
        } else fail(at, 'expected Sequence or SpecialToken');
      });
      out.template = { before, after };
      return;
    }
    default:
      fail(where, `post-processor '${String(p.type)}' is not supported (ByteLevel, TemplateProcessing and Sequence are)`);
  }
}

function parseDecoder(v: unknown, where: string, out: Decoder[]): void {
  if (v === null || v === undefined) fail(where, 'a byte-level tokenizer needs a ByteLevel decoder');
  const d = obj(v, where);
  if (d.type === 'Sequence') list(d.decoders, `${where}.decoders`).forEach((x, i) => parseDecoder(x, `${where}.decoders[${i}]`, out));
  else if (d.type === 'ByteLevel' || d.type === 'ByteFallback') out.push({ type: d.type });
  else fail(where, `decoder '${String(d.type)}' is not supported (ByteLevel, ByteFallback and Sequence are)`);
}

function parseMerges(v: unknown, vocab: Map<string, number>): Uint32Array {
  // the legacy string form may carry a merges.txt "#version" header line
  const merges = list(v, 'tokenizer.json model.merges').filter((m) => !(typeof m === 'string' && m.startsWith('#version')));
  const out = new Uint32Array(merges.length * 3);
  for (let i = 0; i < merges.length; i++) {
    const m = merges[i];
    let a: unknown, b: unknown;
    let parts = 2;
    if (typeof m === 'string') {
      const sp = m.indexOf(' ');
      if (sp < 0 || m.indexOf(' ', sp + 1) >= 0) parts = 0;
      a = m.slice(0, sp);
      b = m.slice(sp + 1);
    } else if (Array.isArray(m)) [a, b, parts] = [m[0], m[1], m.length];
    if (parts !== 2 || typeof a !== 'string' || typeof b !== 'string')
      fail(`tokenizer.json model.merges[${i}]`, `expected "a b" or ["a", "b"], got ${JSON.stringify(m)}`);
    const ia = vocab.get(a);
    const ib = vocab.get(b);
    const im = vocab.get(a + b);
    if (ia === undefined || ib === undefined || im === undefined) {
      const missing = ia === undefined ? a : ib === undefined ? b : a + b;
      fail(`tokenizer.json model.merges[${i}]`, `merge ${JSON.stringify(`${a} ${b}`)} names token ${JSON.stringify(missing)}, which is not in model.vocab`);
    }
    out[i * 3] = ia;
    out[i * 3 + 1] = ib;
    out[i * 3 + 2] = im;
  }
  return out;
}

function byteTableOf(vocab: Map<string, number>, byteFallback: boolean, unk: number | undefined): Uint32Array {
  const t = new Uint32Array(256 * 4);
  const enc = new TextEncoder();
  for (let b = 0; b < 256; b++) {
    const ch = byteChar(b);
    const id = vocab.get(ch);
    if (id !== undefined) t.set([1, 1, id, 0], b * 4);
    else {
      const fb = byteFallback ? [...enc.encode(ch)].map((x) => vocab.get(`<0x${x.toString(16).toUpperCase().padStart(2, '0')}>`)) : [];
      if (fb.length && fb.every((x) => x !== undefined)) t.set([2, fb.length, fb[0]!, fb[1] ?? 0], b * 4);
      else if (unk !== undefined) t.set([3, 1, unk, 0], b * 4);
    }
  }
  return t;
}

/**
 * Added tokens with the ids tokenizers gives them on load, which are not the file's: a token
 * in the model vocab takes its vocab id, any other the next id from the vocab's size on
 * (tokenizers only warns when the file said otherwise). A repeated content updates the first.
 */
function addedTokens(v: unknown, vocab: Map<string, number>): AddedTokenSpec[] {
  const byContent = new Map<string, AddedTokenSpec>();
  let next = vocab.size;
  list(v ?? [], 'tokenizer.json added_tokens').forEach((t, i) => {
    const o = obj(t, `tokenizer.json added_tokens[${i}]`);
    if (typeof o.content !== 'string') fail(`tokenizer.json added_tokens[${i}]`, 'needs a string "content"');
    if (!o.content) return;
    const id = byContent.get(o.content)?.id ?? vocab.get(o.content) ?? next++;
    byContent.set(o.content, {
      id,
      content: o.content,
      singleWord: flag(o.single_word, false),
      lstrip: flag(o.lstrip, false),
      rstrip: flag(o.rstrip, false),
      normalized: flag(o.normalized, !flag(o.special, false)),
      special: flag(o.special, false),
    });
  });
  return [...byContent.values()];
}

export function parseTokenizerJson(json: unknown): TokenizerSpec {
  const root = obj(json, 'tokenizer.json');
  if (root.model === undefined || root.model === null) fail('tokenizer.json', 'has no "model"; is this a Hugging Face tokenizer.json?');
  const model = obj(root.model, 'tokenizer.json model');
  if (model.type !== undefined && model.type !== 'BPE') fail('tokenizer.json model.type', `'${String(model.type)}' is not supported (BPE is)`);
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) fail('tokenizer.json model.dropout', 'BPE dropout is not supported');
  for (const k of ['continuing_subword_prefix', 'end_of_word_suffix'])
    if (model[k] !== undefined && model[k] !== null && model[k] !== '') fail(`tokenizer.json model.${k}`, 'is not supported by byte-level BPE');
  const vocabObj = obj(model.vocab, 'tokenizer.json model.vocab');
  const vocab = new Map<string, number>();
  for (const tok in vocabObj) {
    const id = vocabObj[tok];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) fail('tokenizer.json model.vocab', `token ${JSON.stringify(tok)} has id ${String(id)}`);
    vocab.set(tok, id);
  }
  const merges = parseMerges(model.merges, vocab);

  const added = addedTokens(root.added_tokens, vocab);
  const addedIds = new Map(added.map((a) => [a.content, a.id]));
  const tokenId = (t: string) => addedIds.get(t) ?? vocab.get(t);

  const normalizers: NormalForm[] = [];
  parseNormalizer(root.normalizer, 'tokenizer.json normalizer', normalizers);
  const steps: number[] = [];
  if (root.pre_tokenizer === null || root.pre_tokenizer === undefined) fail('tokenizer.json pre_tokenizer', 'a byte-level BPE needs a ByteLevel pre-tokenizer');
  if (!parsePreTokenizer(root.pre_tokenizer, 'tokenizer.json pre_tokenizer', steps))
    fail('tokenizer.json pre_tokenizer', 'must end with a ByteLevel pre-tokenizer (only byte-level BPE is supported)');
  const post: PostProcessor = {};
  parsePost(root.post_processor, 'tokenizer.json post_processor', tokenId, post);
  const decoders: Decoder[] = [];
  parseDecoder(root.decoder, 'tokenizer.json decoder', decoders);

  let unk: number | undefined;
  if (typeof model.unk_token === 'string') {
    unk = vocab.get(model.unk_token);
    if (unk === undefined) fail('tokenizer.json model.unk_token', `${JSON.stringify(model.unk_token)} is not in model.vocab`);
  }
  return {
    vocab,
    merges,
    added,
    normalizers,
    steps,
    byteTable: byteTableOf(vocab, flag(model.byte_fallback, false), unk),
    fuseUnk: flag(model.fuse_unk, false),
    ignoreMerges: flag(model.ignore_merges, false),
    post,
    decoders,
  };
}

/** Raw bytes of the vocab's byte-level tokens, for ignore_merges lookups inside wasm. */
export function vocabBytes(vocab: Map<string, number>): { bytes: Uint8Array; offsets: Uint32Array; ids: Uint32Array } {
  const parts: Uint8Array[] = [];
  const ids: number[] = [];
  let total = 0;
  for (const [tok, id] of vocab) {
    const b = tokenBytes(tok);
    if (!b) continue; // not byte-level: no pre-token can spell it
    parts.push(b);
    ids.push(id);
    total += b.length;
  }
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(parts.length + 1);
  let o = 0;
  parts.forEach((p, i) => {
    bytes.set(p, o);
    offsets[i] = o;
    o += p.length;
  });
  offsets[parts.length] = o;
  return { bytes, offsets, ids: Uint32Array.from(ids) };
}
