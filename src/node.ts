// Node entry point: installs the Node platform (Dawn via the `webgpu` package).
import { setPlatform } from './platform/platform.js';
import { nodePlatform } from './platform/node.js';

setPlatform(nodePlatform);
export * from './index.js';
