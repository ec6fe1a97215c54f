// Browser entry point: installs the browser platform (navigator.gpu).
import { setPlatform } from './platform/platform.js';
import { browserPlatform } from './platform/browser.js';

setPlatform(browserPlatform);
export * from './index.js';
