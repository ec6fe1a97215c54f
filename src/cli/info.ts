// `mede2 info`: the adapter, its features and limits, and which backend auto-selection picks.
import type { Command } from './command.js';
import { parseCommandArgs } from './args.js';
import { createBackend, parseDeviceChoice } from '../backend/select.js';
import { describeTuning, tuningInUse } from '../backend/webgpu/tuning.js';

export const info: Command = {
  name: 'info',
  summary: 'show the WebGPU adapter, features, limits and the chosen backend',
  usage: 'usage: mede2 info [--device auto|webgpu|wasm] [--json]',
  async run(argv) {
    const { values } = parseCommandArgs(argv, { device: { type: 'string' }, json: { type: 'boolean' } });
    const { backend, reason } = await createBackend(parseDeviceChoice(values.device));
    const i = backend.info;
    const tuning = i.kind === 'webgpu' ? tuningInUse(i.description) : undefined;
    if (values.json) console.log(JSON.stringify({ ...i, reason, ...(tuning && { tuning }) }, null, 2));
    else {
      console.log(`backend:  ${i.kind} (${reason})`);
      console.log(`adapter:  ${i.description}${i.software ? ' [software]' : ''}`);
      console.log(`features: ${i.features.join(', ') || '(none)'}`);
      if (tuning) describeTuning(tuning).forEach((line, n) => console.log(`${n ? '          ' : 'tuning:   '}${line}`));
      console.log('limits:');
      for (const [k, v] of Object.entries(i.limits)) console.log(`  ${k.padEnd(36)} ${v}`);
    }
    backend.destroy();
  },
};
