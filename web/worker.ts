// The training worker: the browser platform plus an in-memory file system (picked files in, the
// run's checkpoints out), and one TrainingSession driven by the page's messages.
import { setPlatform } from '../src/platform/platform.js';
import { browserPlatform } from '../src/platform/browser.js';
import { MemoryFiles } from '../src/platform/memory.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { TrainingSession } from './session.js';

/** The parts of DedicatedWorkerGlobalScope used here (the project's lib is DOM, not WebWorker). */
interface WorkerScope {
  postMessage(msg: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<ToWorker>) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
const files = new MemoryFiles();
setPlatform({ ...browserPlatform, ...files.platform() });

const post = (msg: FromWorker, transfer: Transferable[] = []) => scope.postMessage(msg, transfer);
const session = new TrainingSession(files, post);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

scope.addEventListener('message', ({ data: msg }) => {
  switch (msg.type) {
    case 'probe':
      return void session.probe(msg.device).catch((e) => post({ type: 'error', message: message(e) }));
    case 'start':
      return void session.start(msg).catch((e) => post({ type: 'failed', message: message(e) }));
    case 'pause':
      return session.pause();
    case 'resume':
      return session.resume();
    case 'stop':
      return session.stop();
    case 'download':
      return session.download(msg.what);
  }
});
