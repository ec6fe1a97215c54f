// Node side of the bit-identity test, run as a child process (started with VK_ICD_FILENAMES
// naming Chromium's SwiftShader) in the package folder: `node dist/test/identity.mjs STEPS`
// prints the results as one JSON line.
import { readFileSync } from 'node:fs';
import '../../../src/node.js';
import { dirFileSet } from '../../../src/io/fileset.js';
import { identityRuns } from './run.js';

const steps = Number(process.argv[2]);
if (!(Number.isInteger(steps) && steps > 0)) throw new Error(`identity: expected a step count, got '${process.argv[2]}'`);
const results = await identityRuns(
  {
    model: dirFileSet('test/fixtures/qwen_vl/qwen2_5_vl/model'),
    samples: JSON.parse(readFileSync('test/fixtures/sft_parity/sft_parity.json', 'utf8')).samples,
  },
  steps,
);
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0); // dawn.node keeps the event loop alive
