// A Hugging Face byte-level BPE tokenizer (tokenizer.json) with the same ids, offsets and
// decodes as the Rust `tokenizers`: added tokens are split out and the rest normalized here,
// pre-tokenization and BPE run in wasm (engine.ts). Offsets are UTF-16 code unit ranges of
// the input string (so `text.slice(start, end)` is the token's source).
import { platform } from '../platform/platform.js';
import { AddedTokenMatcher, type Span } from './added.js';
import { parseTokenizerJson, type TokenizerSpec } from './config.js';
import { decodeTokens, type ByteCache } from './decode.js';
import { BpeEngine, type PieceTokens } from './engine.js';
import { normalize, type Normalized } from './normalize.js';
import { ChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat.js';

export interface EncodeOptions {
  /** Add the post-processor's special tokens (e.g. a BOS); default true, as in tokenizers. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

/** What tokenizer_config.json / chat_template.jinja add: the chat template and named special tokens. */
export interface TokenizerExtras {
  tokenizerConfig?: Record<string, unknown>;
  chatTemplate?: string;
}

/** Offsets of a stretch of tokens: fixed, or BPE output of one piece of (normalized) text. */
type OffsetPart =
  | { kind: 'fixed'; start: number; end: number }
  | { kind: 'bpe'; piece: PieceTokens; text: string; at: number; norm: Normalized; origin: number };

export class Encoding {
  private cachedOffsets?: [number, number][];

  constructor(
    readonly ids: Uint32Array,
    private readonly tokenizer: Tokenizer,
    private readonly parts: OffsetPart[],
    private readonly trim: { addPrefixSpace: boolean } | undefined,
    private readonly template: { before: number[]; after: number[] } | undefined,
  ) {}

  get tokens(): string[] {
    return Array.from(this.ids, (id) => this.tokenizer.idToToken(id) ?? '');
  }

  /** [start, end) in UTF-16 code units of the encoded text; special tokens of the template get [0, 0]. */
  get offsets(): [number, number][] {
    this.cachedOffsets ??= this.computeOffsets();
    return this.cachedOffsets;
  }

  private computeOffsets(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < (this.template?.before.length ?? 0); i++) out.push([0, 0]);
    const first = out.length;
    for (const p of this.parts) {
      if (p.kind === 'fixed') out.push([p.start, p.end]);
      else pieceOffsets(p, out);
    }
    if (this.trim) trimOffsets(out, first, this.ids, this.tokenizer, this.trim.addPrefixSpace);
    for (let i = 0; i < (this.template?.after.length ?? 0); i++) out.push([0, 0]);
    return out;
  }
}

function pieceOffsets(p: Extract<OffsetPart, { kind: 'bpe' }>, out: [number, number][]): void {
  const { piece, text, at, norm, origin } = p;
  const n = piece.ids.length;
  const bytes = piece.bytes;
  // byte → UTF-16 unit of the char holding it: identity for ASCII text
  let unitStart: Uint32Array | undefined;
  let unitEnd: Uint32Array | undefined;
  if (bytes !== text.length) {
    unitStart = new Uint32Array(bytes + 1);
    unitEnd = new Uint32Array(bytes + 1);
    let b = 0;
    for (let u = 0; u < text.length && b < bytes; ) {
      const cp = text.codePointAt(u)!;
      const units = cp > 0xffff ? 2 : 1;
      const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < len; k++) {
        unitStart[b + k] = u;
        unitEnd[b + k] = u + units;
      }
      b += len;
      u += units;
    }
  }
  for (let i = 0; i < n; i++) {
    const s = at + (unitStart ? unitStart[piece.starts[i]] : piece.starts[i]);
    const e = at + (unitEnd ? unitEnd[piece.ends[i] - 1] : piece.ends[i]);
    if (norm.starts) out.push([origin + norm.starts[s], origin + norm.ends![e - 1]]);
    else out.push([origin + s, origin + e]);
  }
}

const SPACE = /\p{White_Space}/u;

/** The ByteLevel post-processor's trim_offsets: leading/trailing spaces of a token leave its offsets. */
function trimOffsets(offsets: [number, number][], first: number, ids: Uint32Array, tk: Tokenizer, addPrefixSpace: boolean): void {
  const isSpace = (c: string) => c === '\u0120' || SPACE.test(c);
  for (let i = first; i < offsets.length; i++) {
    const chars = [...(tk.idToToken(ids[i]) ?? '')];
    let lead = 0;
    while (lead < chars.length && isSpace(chars[lead])) lead++;
    let trail = 0;
    while (trail < chars.length && isSpace(chars[chars.length - 1 - trail])) trail++;
    const o = offsets[i];
    if (lead > 0) {
      if ((i === first || o[0] === 0) && addPrefixSpace && lead === 1) lead = 0;
      o[0] = Math.min(o[0] + lead, o[1]);
    }
    if (trail > 0 && o[1] >= trail) o[1] = Math.max(o[1] - trail, o[0]);
  }
}

/** Growable id list for one encode. */
class Ids {
  buf = new Uint32Array(64);
  n = 0;
  push(id: number): void {
    if (this.n === this.buf.length) this.grow(this.n + 1);
    this.buf[this.n++] = id;
  }
  pushAll(ids: Uint32Array | number[]): void {
    if (this.n + ids.length > this.buf.length) this.grow(this.n + ids.length);
    this.buf.set(ids, this.n);
    this.n += ids.length;
  }
  private grow(min: number): void {
    const b = new Uint32Array(Math.max(min, this.buf.length * 2));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }
}

export class Tokenizer {
  private readonly idToTok: (string | undefined)[] = [];
  private readonly addedById = new Map<number, string>();
  private readonly addedByContent = new Map<string, number>();
  private readonly specialContents = new Set<string>();
  private readonly byteCache: ByteCache = new Map();
  private readonly rawTokens: AddedTokenMatcher;
  private readonly normalizedTokens: AddedTokenMatcher;
  private chat?: ChatTemplate;

  private constructor(
    private readonly spec: TokenizerSpec,
    private readonly engine: BpeEngine,
    readonly extras: TokenizerExtras,
  ) {
    for (const [tok, id] of spec.vocab) this.idToTok[id] = tok;
    for (const a of spec.added) {
      // decoding gives a normalized token's normalized form, as tokenizers does
      this.addedById.set(a.id, a.normalized ? normalize(a.content, spec.normalizers).text : a.content);
      this.addedByContent.set(a.content, a.id);
      if (a.special) this.specialContents.add(a.content);
    }
    this.rawTokens = new AddedTokenMatcher(spec.added.filter((a) => !a.normalized));
    this.normalizedTokens = new AddedTokenMatcher(
      spec.added.filter((a) => a.normalized).map((a) => ({ ...a, content: normalize(a.content, spec.normalizers).text })),
    );
  }

  /** From tokenizer.json text or its parsed object; extras carry tokenizer_config.json and a chat template. */
  static async fromJSON(json: string | object, extras: TokenizerExtras = {}): Promise<Tokenizer> {
    let parsed: unknown = json;
    if (typeof json === 'string') {
      try {
        parsed = JSON.parse(json);
      } catch (e) {
        throw new Error(`tokenizer.json: not valid JSON (${(e as Error).message})`);
      }
    }
    const spec = parseTokenizerJson(parsed);
    return new Tokenizer(spec, await BpeEngine.create(spec), extras);
  }

  /** Browser: tokenizer.json as a File/Blob, with tokenizer_config.json and chat_template.jinja when given. */
  static async fromBlob(tokenizerJson: Blob, extra: { tokenizerConfig?: Blob; chatTemplate?: Blob } = {}): Promise<Tokenizer> {
    const config = extra.tokenizerConfig ? parseConfig(await extra.tokenizerConfig.text(), 'tokenizer_config.json') : undefined;
    const chatTemplate = extra.chatTemplate ? await extra.chatTemplate.text() : undefined;
    return Tokenizer.fromJSON(await tokenizerJson.text(), { tokenizerConfig: config, chatTemplate });
  }

  /** A tokenizer.json file, or a model directory (tokenizer.json, tokenizer_config.json, chat_template.jinja). Node only. */
  static async fromFile(path: string): Promise<Tokenizer> {
    const p = platform();
    if (!p.readFile) throw new Error(`Tokenizer.fromFile: the ${p.name} platform cannot read files; use Tokenizer.fromBlob or fromJSON`);
    const read = p.readFile;
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    let json: string;
    let dir: string | undefined;
    try {
      json = text(await read(path));
    } catch (e) {
      if ((e as { code?: string }).code !== 'EISDIR') throw new Error(`Tokenizer.fromFile: cannot read ${path}: ${(e as Error).message}`);
      dir = path.replace(/\/+$/, '');
      try {
        json = text(await read(`${dir}/tokenizer.json`));
      } catch (e2) {
        throw new Error(`Tokenizer.fromFile: ${dir} has no readable tokenizer.json (${(e2 as Error).message})`);
      }
    }
    const optional = async (name: string) => (dir ? read(`${dir}/${name}`).then(text, () => undefined) : undefined);
    const configText = await optional('tokenizer_config.json');
    const tokenizerConfig = configText === undefined ? undefined : parseConfig(configText, `${dir}/tokenizer_config.json`);
    return Tokenizer.fromJSON(json, { tokenizerConfig, chatTemplate: await optional('chat_template.jinja') });
  }

  /** Highest id + 1, added tokens included: the embedding rows a model needs. */
  get vocabSize(): number {
    let n = this.idToTok.length;
    for (const id of this.addedById.keys()) n = Math.max(n, id + 1);
    return n;
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.spec.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id) ?? this.idToTok[id];
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    const ids = new Ids();
    const parts: OffsetPart[] = [];
    const template = options.addSpecialTokens === false ? undefined : this.spec.post.template;
    if (template) ids.pushAll(template.before);
    for (const span of this.rawTokens.split(text)) {
      if (span.id !== undefined) {
        ids.push(span.id);
        parts.push({ kind: 'fixed', start: span.start, end: span.end });
        continue;
      }
      const piece = span.start === 0 && span.end === text.length ? text : text.slice(span.start, span.end);
      const norm = normalize(piece, this.spec.normalizers);
      for (const sub of this.normalizedTokens.split(norm.text)) this.encodeSpan(sub, norm, span.start, ids, parts);
    }
    if (template) ids.pushAll(template.after);
    return new Encoding(ids.buf.slice(0, ids.n), this, parts, this.spec.post.trimOffsets, template);
  }

  private encodeSpan(sub: Span, norm: Normalized, origin: number, ids: Ids, parts: OffsetPart[]): void {
    if (sub.id !== undefined) {
      ids.push(sub.id);
      const [s, e] = norm.starts ? [norm.starts[sub.start], norm.ends![sub.end - 1]] : [sub.start, sub.end];
      parts.push({ kind: 'fixed', start: origin + s, end: origin + e });
      return;
    }
    if (sub.end === sub.start) return;
    const text = sub.start === 0 && sub.end === norm.text.length ? norm.text : norm.text.slice(sub.start, sub.end);
    const piece = this.engine.encode(text);
    ids.pushAll(piece.ids);
    parts.push({ kind: 'bpe', piece, text, at: sub.start, norm, origin });
  }

  encodeBatch(texts: string[], options: EncodeOptions = {}): Encoding[] {
    return texts.map((t) => this.encode(t, options));
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const tok = this.idToToken(ids[i]);
      if (tok === undefined || (options.skipSpecialTokens && this.specialContents.has(tok))) continue;
      tokens.push(tok);
    }
    return decodeTokens(tokens, this.spec.decoders, this.byteCache);
  }

  /** Renders the chat template (chat_template.jinja, else tokenizer_config.json's) over messages. */
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (!this.chat) {
      const source = this.extras.chatTemplate ?? ChatTemplate.fromConfig(this.extras.tokenizerConfig);
      if (source === undefined)
        throw new Error('applyChatTemplate: this tokenizer has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json)');
      this.chat = new ChatTemplate(source, this.extras.tokenizerConfig ?? {});
    }
    return this.chat.render(messages, options);
  }
}

function parseConfig(text: string, where: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
}
