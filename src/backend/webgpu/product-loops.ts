// Whether kernels write their inner product loops out (unrolled) or keep them rolled. NVIDIA's
// Vulkan compiler does not unroll them itself, so hardware adapters get them written out; software
// adapters (lavapipe, SwiftShader) keep them rolled, since LLVM's compile time grows with the
// unrolled body and there compiling, not running, dominates.
import type { GpuContext } from './context.js';

/** Per adapter (see above), or forced either way (the tests run the hardware path on lavapipe). */
export type ProductLoops = 'adapter' | 'unrolled' | 'rolled';
let productLoops: ProductLoops = 'adapter';

export function setProductLoops(mode: ProductLoops): void {
  productLoops = mode;
}

/** Whether kernels dispatched on `ctx` now write their product loops out. */
export function unrolled(ctx: GpuContext): boolean {
  return productLoops === 'adapter' ? !isSoftware(ctx) : productLoops === 'unrolled';
}

function isSoftware(ctx: GpuContext): boolean {
  const info = ctx.device.adapterInfo as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return info.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`);
}
