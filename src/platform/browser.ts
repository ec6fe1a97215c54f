// Browser (and workers): navigator.gpu when present.
import type { Platform } from './platform.js';

export const browserPlatform: Platform = {
  name: 'browser',
  async gpu() {
    return (globalThis.navigator as Navigator | undefined)?.gpu;
  },
};
