// The public API, shared by the Node and browser entry points.
export type { Backend, BackendInfo, BackendKind } from './backend/backend.js';
export { createBackend, parseDeviceChoice, type DeviceChoice } from './backend/select.js';
