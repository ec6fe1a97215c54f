// `node dist/node/bench.js [suite ...] [--device webgpu|wasm|all] [--out DIR] [--tag TAG]`
// runs the named suites (all when none is named) on each selected backend, prints a table
// per run and writes DIR/<suite>-<adapter>[-TAG].json (DIR defaults to bench/results).
// matmul on WebGPU: `--variants all` times every kernel variant per shape (default: the
// planned one only), and `--tuning FILE` writes the per-shape winners there: FILE.json for
// useMatmulTuning / MEDE2_MATMUL_TUNING, else as the source of matmul-tuning.ts (the built-in
// table); `--shapes A,B` keeps the shapes whose name contains A or B. attention on a hardware
// adapter: `--tuning FILE.json` writes the tiles it tuned, for useAttentionTuning /
// MEDE2_ATTENTION_TUNING. `--tuning` goes with exactly one of the two suites.
import '../src/node.js';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/select.js';
import { basicSuite } from './basic.js';
import { matmulSuite, type MatmulSuiteOptions } from './matmul.js';
import { tokenizerSuite } from './tokenizer.js';
import { imageSuite } from './image.js';
import { attentionSuite, type AttentionSuiteOptions } from './attention.js';
import { sftSuite } from './sft.js';
import { generateSuite } from './generate.js';
import { profileSuite } from './profile.js';
import { printTable, writeResults, type Suite } from './suite.js';

const matmulOptions: MatmulSuiteOptions = { variants: 'chosen' };
const attentionOptions: AttentionSuiteOptions = {};
const SUITES: Record<string, Suite> = {
  matmul: (b) => matmulSuite(b, matmulOptions),
  basic: basicSuite,
  tokenizer: tokenizerSuite,
  image: imageSuite,
  attention: (b) => attentionSuite(b, attentionOptions),
  sft: sftSuite,
  generate: generateSuite,
  profile: profileSuite,
};

interface Options {
  suites: string[];
  devices: ('webgpu' | 'wasm')[];
  out: string;
  tag: string;
  tuning?: string;
}

function parse(argv: string[]): Options {
  const o: Options = { suites: [], devices: ['webgpu', 'wasm'], out: 'bench/results', tag: '' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${arg} needs a value`);
      return v;
    };
    if (arg === '--device') {
      const d = value();
      if (d !== 'webgpu' && d !== 'wasm' && d !== 'all') throw new Error(`bench: --device must be webgpu, wasm or all, got '${d}'`);
      o.devices = d === 'all' ? ['webgpu', 'wasm'] : [d];
    } else if (arg === '--variants') {
      const v = value();
      if (v !== 'chosen' && v !== 'all') throw new Error(`bench: --variants must be chosen or all, got '${v}'`);
      matmulOptions.variants = v;
    } else if (arg === '--shapes') matmulOptions.shapes = value().split(',');
    else if (arg === '--tuning') o.tuning = value();
    else if (arg === '--out') o.out = value();
    else if (arg === '--tag') o.tag = value();
    else if (arg.startsWith('-')) throw new Error(`bench: unknown option '${arg}'`);
    else if (!(arg in SUITES)) throw new Error(`bench: unknown suite '${arg}' (suites: ${Object.keys(SUITES).join(', ')})`);
    else o.suites.push(arg);
  }
  if (!o.suites.length) o.suites = Object.keys(SUITES);
  if (matmulOptions.shapes && !o.suites.includes('matmul')) throw new Error('bench: --shapes picks matmul shapes: name the matmul suite');
  if (o.tuning) {
    if (o.suites.length !== 1 || !['matmul', 'attention'].includes(o.suites[0])) throw new Error('bench: --tuning FILE goes with exactly one suite, matmul or attention');
    if (o.suites[0] === 'attention') {
      if (!o.tuning.endsWith('.json')) throw new Error(`bench: attention --tuning writes JSON: name a .json file, got '${o.tuning}'`);
      attentionOptions.tuning = o.tuning;
    } else {
      if (matmulOptions.variants !== 'all') throw new Error('bench: --tuning needs --variants all (the winners come from timing every variant)');
      matmulOptions.tuning = o.tuning;
    }
  }
  return o;
}

async function main(argv: string[]): Promise<void> {
  const o = parse(argv);
  for (const device of o.devices) {
    let backend: Backend;
    try {
      backend = (await createBackend(device)).backend;
    } catch (e) {
      console.warn(`bench: skipping ${device}: ${(e as Error).message}`);
      continue;
    }
    for (const name of o.suites) {
      console.log(`\n== ${name} on ${backend.info.description}`);
      const result = await SUITES[name](backend);
      printTable(result.rows);
      console.log(`(${result.timing}) → ${writeResults(o.out, name, backend, o.tag, result)}`);
    }
    backend.destroy();
  }
}

// dawn.node keeps the event loop alive and may crash at teardown: exit explicitly.
main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
