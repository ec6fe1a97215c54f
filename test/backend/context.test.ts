// GpuContext's module defines (values for a shader's `const NAME: u32 = …u;`): a define the shader
// does not declare is refused with the shader and the name.
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../../src/backend/webgpu/backend.js';
import { Params } from '../../src/backend/webgpu/params.js';
import { testBackends } from '../helpers/backends.js';

const gpu = (await testBackends()).find((b) => b.name === 'webgpu')?.backend as WebGpuBackend | undefined;

describe.runIf(gpu)('GpuContext defines', () => {
  it('refuses a define the shader does not declare, naming it', () => {
    const ctx = gpu!.ctx;
    expect(() =>
      ctx.dispatch({ label: 'test', shader: 'attention', entry: 'attn_bwd_prep', defines: { NOT_DECLARED: 1 }, bindings: [], params: new Params().u32(0), workgroups: [1] }),
    ).toThrow(/shader 'attention' declares no 'const NOT_DECLARED: u32/);
  });
});
