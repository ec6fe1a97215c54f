// `mede2 sft` options: from argv, from a --config file (YAML or JSON; keys as the flags,
// kebab-case, snake_case or camelCase), or both, the command line winning. Each bad value
// is an OptionsError naming the flag or the file's key.
import { parse as parseYaml } from 'yaml';
import type { DeviceChoice } from '../backend/select.js';
import { DEFAULT_LORA, type LoraConfig } from '../nn/lora.js';
import { platform } from '../platform/platform.js';
import { DEFAULT_RESPONSE_TEMPLATE } from './data/records.js';
import type { Truncation } from './data/tokenize.js';
import type { ScheduleKind } from './schedule.js';

export interface SftOptions {
  /** Model folder (config.json, safetensors, tokenizer). */
  model: string;
  /** Training JSONL. */
  data: string;
  /** Evaluation JSONL. */
  eval?: string;
  /** Output folder: checkpoints, metrics.jsonl, loss curve. */
  out: string;
  /** LoRA adapters; absent: full fine-tuning. */
  lora?: LoraConfig;
  lr: number;
  schedule: ScheduleKind;
  epochs: number;
  /** Optimizer steps to stop after; overrides epochs when set. */
  maxSteps?: number;
  /** Most tokens in one packed row (one micro-batch). */
  batchTokens: number;
  /** Rows (micro-batches) per optimizer step. */
  gradAccum: number;
  maxLen: number;
  warmup: { steps: number } | { ratio: number };
  weightDecay: number;
  /** Global gradient-norm clip; 0: none. */
  maxGradNorm: number;
  seed: number;
  /** Optimizer steps between checkpoints; 0: only the final one. */
  saveEvery: number;
  /** Optimizer steps between evaluations; 0: at the end of each epoch. */
  evalEvery: number;
  /** Checkpoints kept (older ones are deleted). */
  keepLast: number;
  /** Stop at the first bad data line instead of skipping it. */
  strict: boolean;
  truncation: Truncation;
  freezeVision: boolean;
  /** Response template of {question, reasoning, answer} records. */
  template: string;
  device: DeviceChoice;
  /** A checkpoint folder to resume from, or 'latest' (the newest complete one in out). */
  resume?: string;
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

type Parser = (v: unknown, name: string) => unknown;

const fail = (name: string, expected: string, v: unknown): never => {
  throw new OptionsError(`${name} expects ${expected}, got ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)}`);
};

function num(v: unknown, name: string, expected: string, ok: (n: number) => boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || !ok(n)) fail(name, expected, v);
  return n;
}

const text: Parser = (v, name) => (typeof v === 'string' && v !== '' ? v : fail(name, 'a non-empty string', v));

/** A response template; a typed backslash-n (as a shell passes it) means a newline. */
function template(v: unknown, name: string): string {
  const t = (text(v, name) as string).replace(/\\n/g, '\n');
  if (!t.includes('{answer}')) fail(name, 'a template with an {answer} placeholder (and usually {reasoning})', v);
  return t;
}

const positive: Parser = (v, name) => num(v, name, 'a number > 0', (n) => n > 0);
const nonNegative: Parser = (v, name) => num(v, name, 'a number ≥ 0', (n) => n >= 0);
const count: Parser = (v, name) => num(v, name, 'an integer ≥ 1', (n) => Number.isInteger(n) && n >= 1);
const steps: Parser = (v, name) => num(v, name, 'an integer ≥ 0', (n) => Number.isInteger(n) && n >= 0);
const u32: Parser = (v, name) => num(v, name, 'an integer in [0, 2^32)', (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32);
const ratio: Parser = (v, name) => num(v, name, 'a ratio in [0, 1)', (n) => n >= 0 && n < 1);

function bool(v: unknown, name: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|yes|1)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(false|no|0)$/i.test(v)) return false;
  return fail(name, 'true or false', v);
}

const oneOf =
  (...values: string[]): Parser =>
  (v, name) =>
    typeof v === 'string' && values.includes(v) ? v : fail(name, values.join(' or '), v);

const LORA_KEYS = ['r', 'alpha', 'dropout', 'targets', 'rslora'];

/** 'r=16,alpha=32[,dropout=0.05,targets=q_proj|v_proj,rslora=true]', a map of those keys, true (defaults), or none/false. */
function lora(v: unknown, name: string): LoraConfig | undefined {
  if (v === false || v === null || v === 'none' || v === 'false') return undefined;
  let fields: Record<string, unknown>;
  if (v === true || v === 'true') fields = {};
  else if (typeof v === 'string') {
    fields = {};
    for (const part of v.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) fail(name, "key=value pairs such as 'r=16,alpha=32'", v);
      fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
  } else if (typeof v === 'object' && !Array.isArray(v)) fields = v as Record<string, unknown>;
  else return fail(name, "'r=16,alpha=32[,dropout=0.05,targets=q_proj|v_proj]' or a map of those keys", v);
  const keyed = Object.fromEntries(Object.entries(fields).map(([k, x]) => [k === 'target_modules' || k === 'target-modules' ? 'targets' : k, x]));
  for (const k of Object.keys(keyed)) if (!LORA_KEYS.includes(k)) throw new OptionsError(`${name}: unknown key '${k}' (expected ${LORA_KEYS.join(', ')})`);
  const targets = keyed.targets === undefined ? DEFAULT_LORA.targetModules : typeof keyed.targets === 'string' ? keyed.targets.split('|') : keyed.targets;
  if (!Array.isArray(targets) || !targets.length || !targets.every((t) => typeof t === 'string' && /^[\w.]+$/.test(t)))
    fail(`${name} targets`, "module names such as 'q_proj|v_proj'", keyed.targets);
  return {
    r: keyed.r === undefined ? DEFAULT_LORA.r : (count(keyed.r, `${name} r`) as number),
    alpha: keyed.alpha === undefined ? DEFAULT_LORA.alpha : (positive(keyed.alpha, `${name} alpha`) as number),
    dropout: keyed.dropout === undefined ? DEFAULT_LORA.dropout : num(keyed.dropout, `${name} dropout`, 'a number in [0, 1)', (n) => n >= 0 && n < 1),
    targetModules: targets as string[],
    useRslora: keyed.rslora === undefined ? DEFAULT_LORA.useRslora : bool(keyed.rslora, `${name} rslora`),
  };
}

interface Flag {
  key: keyof SftOptions | 'warmupSteps' | 'warmupRatio';
  parse: Parser;
  boolean?: boolean;
  arg: string;
  help: string;
}

const FLAGS: Record<string, Flag> = {
  model: { key: 'model', parse: text, arg: 'DIR', help: 'model folder (config.json, *.safetensors, tokenizer.json)' },
  data: { key: 'data', parse: text, arg: 'FILE', help: 'training data, JSONL' },
  eval: { key: 'eval', parse: text, arg: 'FILE', help: 'evaluation data, JSONL' },
  out: { key: 'out', parse: text, arg: 'DIR', help: 'output folder: checkpoints, metrics.jsonl, loss.svg' },
  lora: { key: 'lora', parse: lora, arg: 'SPEC', help: "LoRA instead of full fine-tuning: r=16,alpha=32[,dropout=0.05,targets=q_proj|v_proj,rslora=true]; 'none' for full" },
  lr: { key: 'lr', parse: positive, arg: 'X', help: 'peak learning rate (1e-5)' },
  schedule: { key: 'schedule', parse: oneOf('cosine', 'constant'), arg: 'KIND', help: 'lr schedule after warmup: cosine (to 0) or constant (cosine)' },
  epochs: { key: 'epochs', parse: count, arg: 'N', help: 'passes over the data (3)' },
  'max-steps': { key: 'maxSteps', parse: count, arg: 'N', help: 'stop after N optimizer steps (overrides --epochs)' },
  'batch-tokens': { key: 'batchTokens', parse: count, arg: 'N', help: 'tokens per packed row (8192)' },
  'grad-accum': { key: 'gradAccum', parse: count, arg: 'N', help: 'rows per optimizer step (4)' },
  'max-len': { key: 'maxLen', parse: count, arg: 'N', help: 'longest sample in tokens (4096)' },
  'warmup-steps': { key: 'warmupSteps', parse: steps, arg: 'N', help: 'linear warmup steps' },
  'warmup-ratio': { key: 'warmupRatio', parse: ratio, arg: 'X', help: 'warmup as a fraction of all steps, rounded up (0.03)' },
  'weight-decay': { key: 'weightDecay', parse: nonNegative, arg: 'X', help: 'AdamW weight decay (0)' },
  'max-grad-norm': { key: 'maxGradNorm', parse: nonNegative, arg: 'X', help: 'clip the global gradient norm; 0: no clipping (1)' },
  seed: { key: 'seed', parse: u32, arg: 'N', help: 'seed of shuffling, init and dropout (42)' },
  'save-every': { key: 'saveEvery', parse: steps, arg: 'N', help: 'checkpoint every N optimizer steps; 0: only at the end (500)' },
  'eval-every': { key: 'evalEvery', parse: steps, arg: 'N', help: 'evaluate every N optimizer steps; 0: after each epoch (0)' },
  'keep-last': { key: 'keepLast', parse: count, arg: 'N', help: 'checkpoints kept (3)' },
  strict: { key: 'strict', parse: bool, boolean: true, arg: '', help: 'stop at the first bad data line (default: skip and report)' },
  truncation: { key: 'truncation', parse: oneOf('right', 'drop'), arg: 'MODE', help: 'samples over --max-len: right (cut) or drop (right)' },
  'freeze-vision': { key: 'freezeVision', parse: bool, boolean: true, arg: '', help: 'keep the vision tower frozen (default; --no-freeze-vision trains it)' },
  template: { key: 'template', parse: template, arg: 'TEXT', help: "response template of {question, reasoning, answer} lines ('<think>{reasoning}</think>\\n<answer>{answer}</answer>')" },
  device: { key: 'device', parse: oneOf('auto', 'webgpu', 'wasm'), arg: 'KIND', help: 'auto, webgpu or wasm (auto)' },
  resume: { key: 'resume', parse: text, arg: 'DIR', help: "resume from a checkpoint folder, or 'latest' in --out" },
};

export const SFT_DEFAULTS: Omit<SftOptions, 'model' | 'data' | 'out'> = {
  lr: 1e-5,
  schedule: 'cosine',
  epochs: 3,
  batchTokens: 8192,
  gradAccum: 4,
  maxLen: 4096,
  warmup: { ratio: 0.03 },
  weightDecay: 0,
  maxGradNorm: 1,
  seed: 42,
  saveEvery: 500,
  evalEvery: 0,
  keepLast: 3,
  strict: false,
  truncation: 'right',
  freezeVision: true,
  template: DEFAULT_RESPONSE_TEMPLATE,
  device: 'auto',
};

/** The options part of `mede2 sft --help`. */
export function sftOptionsUsage(): string {
  const rows = [['--config FILE', 'options from a YAML or JSON file (keys as the flags); flags given here override it']];
  for (const [flag, f] of Object.entries(FLAGS)) rows.push([f.boolean ? `--[no-]${flag}` : `--${flag} ${f.arg}`, f.help]);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join('\n');
}

interface Given {
  value: unknown;
  /** How the user wrote it, for errors: "--lr" or "sft.yaml: 'learning_rate'". */
  name: string;
}

function flagName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

/** Raw values of a config object (a parsed YAML/JSON file, or a browser form), keyed by flag. */
function fromObject(obj: unknown, source: string): Map<string, Given> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new OptionsError(`${source}: expected a map of options at the top level`);
  const out = new Map<string, Given>();
  for (const [key, value] of Object.entries(obj)) {
    const flag = flagName(key);
    if (!FLAGS[flag]) throw new OptionsError(`${source}: unknown option '${key}' (options are the flags of mede2 sft, e.g. 'batch_tokens' or 'batch-tokens')`);
    if (out.has(flag)) throw new OptionsError(`${source}: '${key}' is given twice (under two spellings)`);
    out.set(flag, { value, name: `${source}: '${key}'` });
  }
  return out;
}

/** Raw values of argv, keyed by flag, and the --config path. */
function fromArgv(argv: string[]): { given: Map<string, Given>; config?: string } {
  const given = new Map<string, Given>();
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new OptionsError(`unexpected argument '${arg}' (options are --name value)`);
    const eq = arg.indexOf('=');
    let flag = arg.slice(2, eq < 0 ? undefined : eq);
    let value: string | boolean | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (flag.startsWith('no-') && FLAGS[flag.slice(3)]?.boolean && value === undefined) {
      flag = flag.slice(3);
      value = false;
    }
    const spec = FLAGS[flag];
    if (flag !== 'config' && !spec) throw new OptionsError(`unknown option --${flag} (mede2 sft --help lists them)`);
    if (value === undefined) {
      if (spec?.boolean) value = /^(true|false)$/.test(argv[i + 1] ?? '') ? argv[++i] : true;
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
      else throw new OptionsError(`--${flag} needs a value`);
    }
    if (flag === 'config') {
      if (config !== undefined) throw new OptionsError('--config is given twice');
      config = value as string;
      continue;
    }
    if (given.has(flag)) throw new OptionsError(`--${flag} is given twice`);
    given.set(flag, { value, name: `--${flag}` });
  }
  return { given, config };
}

function resolve(given: Map<string, Given>): SftOptions {
  const raw: Record<string, unknown> = {};
  for (const [flag, g] of given) raw[FLAGS[flag].key] = FLAGS[flag].parse(g.value, g.name);
  const { warmupSteps, warmupRatio, ...rest } = raw;
  if (warmupSteps !== undefined && warmupRatio !== undefined)
    throw new OptionsError(`give ${given.get('warmup-steps')!.name} or ${given.get('warmup-ratio')!.name}, not both`);
  for (const required of ['model', 'data', 'out'])
    if (rest[required] === undefined) throw new OptionsError(`--${required} is required (or '${required}' in the --config file)`);
  const options = { ...SFT_DEFAULTS, ...rest } as SftOptions;
  if (warmupSteps !== undefined) options.warmup = { steps: warmupSteps as number };
  if (warmupRatio !== undefined) options.warmup = { ratio: warmupRatio as number };
  if (options.maxLen > options.batchTokens)
    throw new OptionsError(`--max-len ${options.maxLen} is more than --batch-tokens ${options.batchTokens}: a sample must fit in a row; lower --max-len or raise --batch-tokens`);
  return options;
}

/** Options from a plain object (a parsed config, or a browser form); `source` names it in errors. */
export function sftOptionsFrom(obj: Record<string, unknown>, source = 'options'): SftOptions {
  return resolve(fromObject(obj, source));
}

/** Parses a config file's text by its extension (.yaml, .yml or .json). */
export function parseConfigText(text: string, path: string): unknown {
  if (/\.json$/i.test(path)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new OptionsError(`${path}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (/\.ya?ml$/i.test(path)) {
    try {
      return parseYaml(text);
    } catch (e) {
      throw new OptionsError(`${path}: not valid YAML (${(e as Error).message})`);
    }
  }
  throw new OptionsError(`--config ${path}: expected a .yaml, .yml or .json file`);
}

/** `mede2 sft` argv (after the command name) → options; --config is read through the platform. */
export async function parseSftArgs(argv: string[]): Promise<SftOptions> {
  const cli = fromArgv(argv);
  const merged = new Map<string, Given>();
  if (cli.config !== undefined) {
    const p = platform();
    if (!p.readFile) throw new OptionsError(`--config: the ${p.name} platform cannot read files; use sftOptionsFrom()`);
    let bytes: Uint8Array;
    try {
      bytes = await p.readFile(cli.config);
    } catch (e) {
      throw new OptionsError(`--config ${cli.config}: cannot read it (${(e as Error).message})`);
    }
    for (const [flag, g] of fromObject(parseConfigText(new TextDecoder().decode(bytes), cli.config), cli.config)) merged.set(flag, g);
    // warmup is one setting: either flag on the command line replaces the file's
    if (cli.given.has('warmup-steps') || cli.given.has('warmup-ratio')) ['warmup-steps', 'warmup-ratio'].forEach((f) => merged.delete(f));
  }
  for (const [flag, g] of cli.given) merged.set(flag, g);
  return resolve(merged);
}
