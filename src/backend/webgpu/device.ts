// Requests a device with the adapter's real limits and the optional features we use.
import type { BackendInfo } from '../backend.js';

const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];
const LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|warp|basic render/i;

/** Whether an adapter renders in software (a CPU rasteriser: lavapipe, SwiftShader, WARP). */
export function isSoftwareAdapter(info: GPUAdapterInfo): boolean {
  return (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true || SOFTWARE.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`);
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  info: BackendInfo;
}

export async function acquireDevice(gpu: GPU, powerPreference: GPUPowerPreference = 'high-performance'): Promise<AcquiredDevice | undefined> {
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) return undefined;
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const l of LIMITS) requiredLimits[l] = adapter.limits[l];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const a = adapter.info;
  const description = [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' · ') || 'unknown adapter';
  const limits: BackendInfo['limits'] = {
    maxBufferBytes: device.limits.maxBufferSize,
    maxBindingBytes: device.limits.maxStorageBufferBindingSize,
  };
  for (const l of LIMITS) limits[l] = device.limits[l];
  return {
    adapter,
    device,
    info: {
      kind: 'webgpu',
      description,
      software: isSoftwareAdapter(a),
      features: [...device.features].sort(),
      limits,
    },
  };
}
