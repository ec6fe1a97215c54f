// One JSONL record → a chat conversation. Two forms are accepted:
//   {"messages": [{"role": "system"|"user"|"assistant", "content": str | [{"type":"text","text":…} | {"type":"image","image":path}]}], "id"?: …}
//   {"question": str, "options"?: [str…] | {"A": str, …}, "reasoning": str, "answer": str, "id"?: …}
// The second becomes one user turn (the question, then one line per option, "A. text", lettered
// A, B, … for a list or by the object's own keys) and one assistant turn rendered with the
// response template. Any problem throws a RecordError naming the field.
import type { ChatContent, ChatMessage } from '../../text/index.js';
import { resolveBeside } from '../../util/path.js';

export const DEFAULT_RESPONSE_TEMPLATE = '<think>{reasoning}</think>\n<answer>{answer}</answer>';

const ROLES = ['system', 'user', 'assistant'] as const;

export interface SftExample {
  id: string;
  file: string;
  line: number;
  messages: ChatMessage[];
  /** Image paths (resolved beside the JSONL file) in the order the conversation shows them. */
  images: string[];
}

export class RecordError extends Error {
  override name = 'RecordError';
}

/** Checks a response template once, before any line is read. */
export function checkResponseTemplate(template: string): void {
  if (!template.includes('{answer}'))
    throw new Error(`response template ${JSON.stringify(template)} has no {answer} placeholder (default: ${JSON.stringify(DEFAULT_RESPONSE_TEMPLATE)})`);
}

/** Fills {reasoning} and {answer}; other braces are left as they are. */
export function renderResponse(template: string, fields: { reasoning: string; answer: string }): string {
  return template.replace(/\{(reasoning|answer)\}/g, (_, key: 'reasoning' | 'answer') => fields[key]);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringField(rec: Record<string, unknown>, key: string, nonEmpty: boolean): string {
  if (!(key in rec)) throw new RecordError(`missing field '${key}'`);
  const v = rec[key];
  if (typeof v !== 'string') throw new RecordError(`'${key}' must be a string, got ${describe(v)}`);
  if (nonEmpty && !v.trim()) throw new RecordError(`'${key}' is empty`);
  return v;
}

/** An image reference: a local path (absolute, relative to the JSONL file, or file://). */
function imagePath(ref: string, where: string, file: string): string {
  if (/^(https?|data):/i.test(ref)) throw new RecordError(`${where} is a URL (${ref.slice(0, 40)}…); only local image files are supported: download it and give its path`);
  const local = ref.startsWith('file://') ? decodeURIComponent(ref.slice('file://'.length)) : ref;
  return resolveBeside(file, local);
}

function parseContent(content: unknown, where: string, role: string, file: string, images: string[]): string | ChatContent[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new RecordError(`${where} must be a string or an array of {type: 'text'|'image'} items, got ${describe(content)}`);
  if (!content.length) throw new RecordError(`${where} is an empty array`);
  return content.map((item, j): ChatContent => {
    const at = `${where}[${j}]`;
    if (!isObject(item)) throw new RecordError(`${at} must be an object {type: 'text'|'image', ...}, got ${describe(item)}`);
    if (item.type === 'text') {
      if (typeof item.text !== 'string') throw new RecordError(`${at}.text must be a string, got ${describe(item.text)}`);
      return { type: 'text', text: item.text };
    }
    if (item.type === 'image') {
      if (role !== 'user') throw new RecordError(`${at} is an image in a ${role} turn; images are only supported in user turns`);
      if (typeof item.image !== 'string' || !item.image) throw new RecordError(`${at}.image must be a non-empty path string, got ${describe(item.image)}`);
      const path = imagePath(item.image, `${at}.image`, file);
      images.push(path);
      return { type: 'image', image: path };
    }
    if (!('type' in item)) throw new RecordError(`${at} has no 'type' (expected 'text' or 'image')`);
    throw new RecordError(`${at}.type ${JSON.stringify(item.type)} is not supported (expected 'text' or 'image')`);
  });
}

function parseMessages(value: unknown, file: string, images: string[]): ChatMessage[] {
  if (!Array.isArray(value)) throw new RecordError(`'messages' must be an array, got ${describe(value)}`);
  if (!value.length) throw new RecordError(`'messages' is empty`);
  const messages = value.map((m, i): ChatMessage => {
    const where = `messages[${i}]`;
    if (!isObject(m)) throw new RecordError(`${where} must be an object {role, content}, got ${describe(m)}`);
    if (!('role' in m)) throw new RecordError(`${where} has no 'role'`);
    const role = m.role;
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
      throw new RecordError(`${where}.role ${JSON.stringify(role)} is not one of ${ROLES.join(', ')}`);
    if (!('content' in m)) throw new RecordError(`${where} has no 'content'`);
    return { role, content: parseContent(m.content, `${where}.content`, role, file, images) };
  });
  if (!messages.some((m) => m.role === 'assistant')) throw new RecordError(`no assistant message: nothing to train on`);
  return messages;
}

function optionLines(options: unknown): string[] {
  if (Array.isArray(options)) {
    if (!options.length) throw new RecordError(`'options' is an empty array`);
    if (options.length > 26) throw new RecordError(`'options' has ${options.length} entries; at most 26 (A–Z) can be lettered`);
    return options.map((o, i) => {
      if (typeof o !== 'string') throw new RecordError(`options[${i}] must be a string, got ${describe(o)}`);
      return `${String.fromCharCode(65 + i)}. ${o}`;
    });
  }
  if (isObject(options)) {
    const entries = Object.entries(options);
    if (!entries.length) throw new RecordError(`'options' is an empty object`);
    return entries.map(([k, o]) => {
      if (typeof o !== 'string') throw new RecordError(`options.${k} must be a string, got ${describe(o)}`);
      return `${k}. ${o}`;
    });
  }
  throw new RecordError(`'options' must be an array of strings or an object {letter: text}, got ${describe(options)}`);
}

function questionMessages(rec: Record<string, unknown>, responseTemplate: string): ChatMessage[] {
  const question = stringField(rec, 'question', true);
  const reasoning = stringField(rec, 'reasoning', false);
  const answer = stringField(rec, 'answer', true);
  const user = rec.options === undefined ? question : [question, ...optionLines(rec.options)].join('\n');
  return [
    { role: 'user', content: user },
    { role: 'assistant', content: renderResponse(responseTemplate, { reasoning, answer }) },
  ];
}

/** Validates one parsed JSONL value (from `file`, line `line`) into an example; throws RecordError. */
export function parseRecord(value: unknown, file: string, line: number, responseTemplate: string): SftExample {
  if (!isObject(value)) throw new RecordError(`expected a JSON object, got ${describe(value)}`);
  let id = `${file}:${line}`;
  if ('id' in value) {
    if (typeof value.id !== 'string' && typeof value.id !== 'number') throw new RecordError(`'id' must be a string or a number, got ${describe(value.id)}`);
    id = String(value.id);
  }
  const images: string[] = [];
  let messages: ChatMessage[];
  if ('messages' in value) {
    if ('question' in value) throw new RecordError(`has both 'messages' and 'question': use one form per line`);
    messages = parseMessages(value.messages, file, images);
  } else if ('question' in value) {
    messages = questionMessages(value, responseTemplate);
  } else {
    throw new RecordError(`has neither 'messages' nor 'question' (expected {"messages": [...]} or {"question", "reasoning", "answer"})`);
  }
  return { id, file, line, messages, images };
}
