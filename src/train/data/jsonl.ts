// Reads an SFT JSONL file: bytes (or text) → examples, each bad line a DataIssue with file:line
// (not UTF-8, not JSON, a record that does not validate, an image file that is not there).
// Strict mode throws at the first one. Node reads by path through the platform; the browser
// passes a File's bytes and says which image names exist.
import { platform } from '../../platform/platform.js';
import { IssueLog, type DataIssue } from './issues.js';
import { checkResponseTemplate, DEFAULT_RESPONSE_TEMPLATE, parseRecord, RecordError, type SftExample } from './records.js';

export interface ReadSftOptions {
  /** Stop at the first bad line (DataError) instead of skipping it. Default false. */
  strict?: boolean;
  /** For {question, reasoning, answer} records; {reasoning} and {answer} are filled in. */
  responseTemplate?: string;
  /** Whether an image file exists; default: the platform's file check (Node). */
  imageExists?: (path: string) => Promise<boolean>;
}

export interface SftData {
  examples: SftExample[];
  /** Lines skipped, in file order (empty in strict mode, which throws instead). */
  issues: DataIssue[];
}

const NEWLINE = 0x0a;

/** Parses a JSONL file's content; `file` names it in issues and anchors relative image paths. */
export async function parseSftJsonl(file: string, content: Uint8Array | string, options: ReadSftOptions = {}): Promise<SftData> {
  const template = options.responseTemplate ?? DEFAULT_RESPONSE_TEMPLATE;
  checkResponseTemplate(template);
  const log = new IssueLog(options.strict ?? false);
  const examples: SftExample[] = [];
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let exists: ((path: string) => Promise<boolean>) | undefined = options.imageExists;
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  for (let line = 1; start < bytes.length; line++) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end < 0) end = bytes.length;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    const report = (message: string) => log.report({ file, line, message });
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      report('not valid UTF-8');
      continue;
    }
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      report(`invalid JSON (${(e as Error).message})`);
      continue;
    }
    let example: SftExample;
    try {
      example = parseRecord(value, file, line, template);
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      report(e.message);
      continue;
    }
    if (example.images.length) {
      exists ??= platformImageCheck();
      const found = await Promise.all(example.images.map((p) => exists!(p)));
      const missing = example.images.filter((_, i) => !found[i]);
      if (missing.length) {
        report(`image file${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')} (relative paths are resolved beside the JSONL file)`);
        continue;
      }
    }
    examples.push(example);
  }
  return { examples, issues: log.issues };
}

function platformImageCheck(): (path: string) => Promise<boolean> {
  const p = platform();
  if (!p.isFile) throw new Error(`parseSftJsonl: the ${p.name} platform cannot check image files; pass options.imageExists`);
  return p.isFile.bind(p);
}

/** Reads and parses a JSONL file by path (Node). */
export async function readSftJsonl(path: string, options: ReadSftOptions = {}): Promise<SftData> {
  const p = platform();
  if (!p.readFile) throw new Error(`readSftJsonl: the ${p.name} platform cannot read files; pass the file's bytes to parseSftJsonl`);
  let bytes: Uint8Array;
  try {
    bytes = await p.readFile(path);
  } catch (e) {
    throw new Error(`cannot read the data file ${path}: ${(e as Error).message}`);
  }
  return parseSftJsonl(path, bytes, options);
}
