// Answer accuracy of a chat model on cases whose reference reply ends in <answer>…</answer>:
// the model answers each prompt (greedy unless told otherwise) and its answer is compared with
// the reference's, case- and whitespace-insensitively.
import type { ChatMessage, Tokenizer } from '../text/index.js';
import type { QwenVL } from '../models/qwen2vl/model.js';
import { generate } from '../models/qwen2vl/generate.js';

const ANSWER = /<answer>\s*([\s\S]*?)\s*<\/answer>/i;

/** The text inside the last <answer>…</answer>, or null when there is none. */
export function extractAnswer(text: string): string | null {
  const all = [...text.matchAll(new RegExp(ANSWER.source, 'gi'))];
  return all.length ? all[all.length - 1][1].trim() : null;
}

export interface AnswerCase {
  id: string;
  /** The conversation up to (not including) the assistant's reply. */
  prompt: ChatMessage[];
  /** The reference answer. */
  answer: string;
}

/** Cases from conversations whose last turn is an assistant reply with an <answer> tag. */
export function answerCases(examples: { id: string; messages: ChatMessage[] }[]): AnswerCase[] {
  const out: AnswerCase[] = [];
  for (const e of examples) {
    const last = e.messages[e.messages.length - 1];
    if (last?.role !== 'assistant') continue;
    const text = typeof last.content === 'string' ? last.content : last.content.map((c) => c.text ?? '').join('');
    const answer = extractAnswer(text);
    if (answer !== null) out.push({ id: e.id, prompt: e.messages.slice(0, -1), answer });
  }
  return out;
}

export interface AnswerResult {
  id: string;
  expected: string;
  /** null: the model gave no <answer> tag. */
  got: string | null;
  correct: boolean;
  text: string;
}

export interface AccuracyOptions {
  maxNewTokens: number;
  /** Stop generating at these tokens (default: the tokenizer's <|im_end|> and <|endoftext|> where present). */
  stopTokens?: number[];
  onCase?: (r: AnswerResult, index: number) => void;
}

export async function answerAccuracy(model: QwenVL, tokenizer: Tokenizer, cases: AnswerCase[], o: AccuracyOptions): Promise<{ accuracy: number; results: AnswerResult[] }> {
  const stop = o.stopTokens ?? ['<|im_end|>', '<|endoftext|>'].map((t) => tokenizer.tokenToId(t)).filter((t): t is number => t !== undefined);
  const results: AnswerResult[] = [];
  for (const [i, c] of cases.entries()) {
    const prompt = tokenizer.applyChatTemplate(c.prompt, { addGenerationPrompt: true });
    const ids = Int32Array.from(tokenizer.encode(prompt, { addSpecialTokens: false }).ids);
    const { tokens } = await generate(model, { inputIds: ids, maxNewTokens: o.maxNewTokens, stopTokens: stop });
    const text = tokenizer.decode(tokens, { skipSpecialTokens: true });
    const got = extractAnswer(text);
    const r = { id: c.id, expected: c.answer, got, correct: got !== null && got.toLowerCase() === c.answer.toLowerCase(), text };
    results.push(r);
    o.onCase?.(r, i);
  }
  return { accuracy: results.length ? results.filter((r) => r.correct).length / results.length : NaN, results };
}
