// Whether kernels write their inner product loops out (unrolled) or keep them rolled. NVIDIA's
// Vulkan compiler does not unroll them itself, so hardware adapters get them written out; software
// adapters (lavapipe, SwiftShader, WARP) keep them rolled, since their compile time (LLVM's, for the
// first two) grows with the unrolled body and there compiling, not running, dominates.
import type { GpuContext } from './context.js';
import { isSoftwareAdapter } from './device.js';

/** Per adapter (see above), or forced either way (the tests run the hardware path on lavapipe). */
export type ProductLoops = 'adapter' | 'unrolled' | 'rolled';
let productLoops: ProductLoops = 'adapter';

export function setProductLoops(mode: ProductLoops): void {
  productLoops = mode;
}

/** Whether kernels dispatched on `ctx` now write their product loops out. */
export function unrolled(ctx: GpuContext): boolean {
  return productLoops === 'adapter' ? !isSoftwareAdapter(ctx.device.adapterInfo) : productLoops === 'unrolled';
}
