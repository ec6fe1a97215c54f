// Page entry of the bit-identity test: exposes the runs to Playwright's page.evaluate. The
// Stage-I fixture is fetched from the test server (fixtures/) and read as Blobs, as picked files are.
import '../../../src/browser.js';
import { blobFileSet } from '../../../src/io/fileset.js';
import { identityRuns, type IdentityResults } from './run.js';

async function fetched(path: string): Promise<Blob> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
  return r.blob();
}

async function run(steps: number): Promise<IdentityResults> {
  const names = ['config.json', 'model.safetensors'];
  const blobs = await Promise.all(names.map((n) => fetched(`fixtures/model/${n}`)));
  const model = blobFileSet(new Map(names.map((n, i) => [n, blobs[i]])), 'model');
  const { samples } = JSON.parse(await (await fetched('fixtures/sft_parity.json')).text());
  return identityRuns({ model, samples }, steps);
}

Object.assign(globalThis, { mede2Identity: run });
