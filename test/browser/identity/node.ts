// Node side of the bit-identity test, run as a child process (started with VK_ICD_FILENAMES
// naming Chromium's SwiftShader): `node node.js mlp STEPS` prints the result as one JSON line.
import '../../../src/node.js';
import { mlpIdentity } from './run.js';

const [which, steps] = process.argv.slice(2);
if (which !== 'mlp') throw new Error(`identity: unknown run '${which}' (expected mlp)`);
const result = await mlpIdentity(Number(steps));
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0); // dawn.node keeps the event loop alive
