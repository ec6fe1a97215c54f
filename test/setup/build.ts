// Makes sure the generated modules (embedded WGSL and wasm) exist and are current before tests import them.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--only-generated'], { stdio: 'inherit' });
}
