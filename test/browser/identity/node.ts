// Node side of the bit-identity test, run as a child process (started with VK_ICD_FILENAMES
// naming Chromium's SwiftShader) in the package folder: `node dist/test/identity.mjs mlp|sft STEPS`
// prints the result as one JSON line.
import { readFileSync } from 'node:fs';
import '../../../src/node.js';
import { dirFileSet } from '../../../src/io/fileset.js';
import { mlpIdentity, sftIdentity, type IdentityResult } from './run.js';

const runs: Record<string, (steps: number) => Promise<IdentityResult>> = {
  mlp: mlpIdentity,
  sft: (steps) =>
    sftIdentity(
      {
        model: dirFileSet('test/fixtures/qwen_vl/qwen2_5_vl/model'),
        samples: JSON.parse(readFileSync('test/fixtures/sft_parity/sft_parity.json', 'utf8')).samples,
      },
      steps,
    ),
};

const [which, steps] = process.argv.slice(2);
const run = runs[which];
if (!run) throw new Error(`identity: unknown run '${which}' (expected ${Object.keys(runs).join(' or ')})`);
process.stdout.write(`${JSON.stringify(await run(Number(steps)))}\n`);
process.exit(0); // dawn.node keeps the event loop alive
