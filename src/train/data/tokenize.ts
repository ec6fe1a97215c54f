// Conversations → token ids and labels for SFT: the model's chat template renders the whole
// conversation, and the loss covers only what the assistant says. Assistant spans come from
// rendering the conversation incrementally: for assistant turn k, the render of messages
// [0, k) with the generation prompt ends where its reply starts, and the render of [0, k]
// (less trailing whitespace) ends where it stops. Each boundary's tokens are matched against
// the full conversation's tokens (longest common token prefix), so a token that BPE merges
// across a boundary still counts as the reply's. On a Qwen2-style template the labelled
// tokens are the reply and its <|im_end|>; the "<|im_start|>assistant\n" header and the
// newline after <|im_end|> are not. Labels are unshifted (the loss shifts them), −100 elsewhere.
import { expandVisionPlaceholders, type ChatMessage, type Tokenizer } from '../../text/index.js';
import { IssueLog, type DataIssue } from './issues.js';
import { IGNORE_INDEX } from '../../tensor/ops/loss.js';
import { RecordError, type SftExample } from './records.js';

/** Label of tokens the loss skips (torch's ignore_index), re-exported for the data side. */
export { IGNORE_INDEX };

export type Truncation = 'right' | 'drop';

/** An image's patch grid [t, h, w], from the image processor. */
export type ImageGrid = [number, number, number];

export interface TokenizeSftOptions {
  /** Longest sample, in tokens (image tokens included). */
  maxLen: number;
  /** 'right': cut longer samples to maxLen; 'drop': leave them out. */
  truncation: Truncation;
  /** Stop at the first sample that cannot be tokenized, instead of skipping it. */
  strict?: boolean;
  /** The grid of an image path (see imageGridLookup); needed only when examples have images. */
  imageGrid?: (path: string) => ImageGrid;
  /** Vision merge size (Qwen2-VL: 2): an image takes t·h·w / merge² placeholder tokens. */
  mergeSize?: number;
  /** The placeholder the template renders for an image. */
  imageToken?: string;
}

export interface SftSample {
  id: string;
  file: string;
  line: number;
  inputIds: Int32Array;
  /** inputIds where the loss applies, IGNORE_INDEX elsewhere. */
  labels: Int32Array;
  images: { path: string; grid: ImageGrid }[];
  truncated: boolean;
}

export interface SftTokenized {
  samples: SftSample[];
  issues: DataIssue[];
  /** Samples cut to maxLen (truncation 'right'). */
  truncated: number;
  /** Samples left out: longer than maxLen with truncation 'drop', or with no labelled token (or part of an image) left after cutting. */
  dropped: number;
}

function countOf(text: string, token: string): number {
  return text.split(token).length - 1;
}

/** Number of leading tokens a and b share. */
function commonPrefix(a: Uint32Array, b: Uint32Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

interface Encoded {
  ids: Uint32Array;
  labelled: Uint8Array;
}

function encodeConversation(example: SftExample, tk: Tokenizer, grids: ImageGrid[], mergeSize: number, imageToken: string): Encoded {
  const { messages } = example;
  const render = (msgs: ChatMessage[], generationPrompt: boolean) => tk.applyChatTemplate(msgs, { addGenerationPrompt: generationPrompt });
  const encode = (text: string) => {
    const n = countOf(text, imageToken);
    const expanded = n ? expandVisionPlaceholders(text, grids.slice(0, n), mergeSize, imageToken) : text;
    return tk.encode(expanded, { addSpecialTokens: false }).ids;
  };
  const full = render(messages, false);
  const placeholders = countOf(full, imageToken);
  if (placeholders !== grids.length)
    throw new RecordError(`the chat template rendered ${placeholders} '${imageToken}' placeholders for ${grids.length} images`);
  const ids = encode(full);
  const labelled = new Uint8Array(ids.length);
  messages.forEach((m, k) => {
    if (m.role !== 'assistant') return;
    const head = render(messages.slice(0, k), true);
    const turn = render(messages.slice(0, k + 1), false).trimEnd();
    if (!turn.startsWith(head) || !full.startsWith(turn))
      throw new RecordError(
        `the chat template does not render this conversation incrementally at messages[${k}] (the render of the first ${k} messages plus the generation prompt is not a prefix of the whole), so the assistant's tokens cannot be found`,
      );
    labelled.fill(1, commonPrefix(encode(head), ids), commonPrefix(encode(turn), ids));
  });
  return { ids, labelled };
}

/** Tokenizes examples with assistant-only labels, applying the length policy. */
export function tokenizeSft(examples: SftExample[], tk: Tokenizer, options: TokenizeSftOptions): SftTokenized {
  const { maxLen, truncation } = options;
  if (!(Number.isInteger(maxLen) && maxLen > 0)) throw new Error(`tokenizeSft: maxLen must be a positive integer, got ${maxLen}`);
  if (truncation !== 'right' && truncation !== 'drop') throw new Error(`tokenizeSft: truncation must be 'right' or 'drop', got ${String(truncation)}`);
  const mergeSize = options.mergeSize ?? 2;
  const imageToken = options.imageToken ?? '<|image_pad|>';
  const imageId = tk.tokenToId(imageToken);
  const log = new IssueLog(options.strict ?? false);
  const out: SftTokenized = { samples: [], issues: log.issues, truncated: 0, dropped: 0 };
  for (const ex of examples) {
    const report = (message: string) => log.report({ file: ex.file, line: ex.line, message });
    if (ex.images.length && !options.imageGrid) {
      report(`has ${ex.images.length} image(s) but no image grids were given (text-only tokenization)`);
      continue;
    }
    let enc: Encoded;
    let grids: ImageGrid[];
    try {
      grids = ex.images.map((p) => options.imageGrid!(p));
      enc = encodeConversation(ex, tk, grids, mergeSize, imageToken);
    } catch (e) {
      report((e as Error).message);
      continue;
    }
    let n = enc.ids.length;
    if (n > maxLen) {
      if (truncation === 'drop' || (imageId !== undefined && enc.ids.subarray(maxLen).includes(imageId))) {
        out.dropped++; // a cut image would leave its pixels without their tokens
        continue;
      }
      n = maxLen;
    }
    const labels = new Int32Array(n);
    let labelCount = 0;
    for (let i = 0; i < n; i++) {
      labels[i] = enc.labelled[i] ? enc.ids[i] : IGNORE_INDEX;
      labelCount += enc.labelled[i];
    }
    const truncated = n < enc.ids.length;
    if (!labelCount) {
      if (truncated) out.dropped++;
      else report('no assistant tokens to train on (the replies render as nothing)');
      continue;
    }
    if (truncated) out.truncated++;
    out.samples.push({
      id: ex.id,
      file: ex.file,
      line: ex.line,
      inputIds: Int32Array.from(enc.ids.subarray(0, n)),
      labels,
      images: ex.images.map((path, i) => ({ path, grid: grids[i] })),
      truncated,
    });
  }
  return out;
}
