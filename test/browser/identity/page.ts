// Page entry of the bit-identity test: exposes the runs to Playwright's page.evaluate.
import '../../../src/browser.js';
import { mlpIdentity } from './run.js';

Object.assign(globalThis, { mede2Identity: { mlp: mlpIdentity } });
