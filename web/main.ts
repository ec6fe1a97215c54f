// The training page: picks files and options, sends them to the training worker, and draws what
// it reports (backend, estimate, live loss chart, throughput, memory, samples). Nothing heavy
// runs here, so the page stays responsive while a step runs.
import type { DeviceChoice } from '../src/backend/select.js';
import type { Footprint } from '../src/train/footprint.js';
import { lossCurveSvg, type MetricRecord } from '../src/train/metrics.js';
import { fmtDuration } from '../src/train/progress.js';
import { fmtBytes } from '../src/util/format.js';
import { fromDrop, fromInput, fromZip } from './files.js';
import type { BackendReport, FromWorker, PickedFile, StepUpdate, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no #${id}`);
  return el as T;
};

const ui = {
  backend: $('backend'),
  message: $('message'),
  modelInput: $<HTMLInputElement>('model-input'),
  modelDrop: $('model-drop'),
  modelPicked: $('model-picked'),
  dataInput: $<HTMLInputElement>('data-input'),
  dataFolderInput: $<HTMLInputElement>('data-folder-input'),
  dataDrop: $('data-drop'),
  dataPicked: $('data-picked'),
  trainFile: $<HTMLSelectElement>('train-file'),
  evalFile: $<HTMLSelectElement>('eval-file'),
  options: $<HTMLFormElement>('options'),
  device: $<HTMLSelectElement>('device'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  stop: $<HTMLButtonElement>('stop'),
  resumeInput: $<HTMLInputElement>('resume-input'),
  resumeFolderInput: $<HTMLInputElement>('resume-folder-input'),
  resumePicked: $('resume-picked'),
  downloadCheckpoint: $<HTMLButtonElement>('download-checkpoint'),
  downloadAdapter: $<HTMLButtonElement>('download-adapter'),
  step: $('step'),
  loss: $('loss'),
  lr: $('lr'),
  tps: $('tps'),
  eta: $('eta'),
  memory: $('memory'),
  epoch: $('epoch'),
  evalLoss: $('eval-loss'),
  estimate: $('estimate'),
  chart: $('chart'),
  samples: $('samples'),
  log: $('log'),
};

/** What a wasm32 module can address: the CPU backend's ceiling. */
const WASM_MEMORY = 4 * 2 ** 30;

const picked = { model: [] as PickedFile[], data: [] as PickedFile[], resume: [] as PickedFile[] };
const records: MetricRecord[] = [];
let worker: Worker | null = null;
let phase: 'idle' | 'running' | 'paused' | 'done' = 'idle';
let lora = false;

function log(line: string): void {
  ui.log.textContent += `${new Date().toLocaleTimeString()}  ${line}\n`;
  ui.log.scrollTop = ui.log.scrollHeight;
}

/** Shows a notice; `action` adds a button (e.g. switching to the wasm backend). */
function notice(text: string, kind: 'warning' | 'error', action?: { label: string; run: () => void }): void {
  ui.message.hidden = false;
  ui.message.className = `message ${kind}`;
  ui.message.textContent = text;
  if (action) {
    const b = document.createElement('button');
    b.textContent = action.label;
    b.addEventListener('click', () => {
      action.run();
      ui.message.hidden = true;
    });
    ui.message.append(b);
  }
}

const useWasm = { label: 'Use the wasm (CPU) backend', run: () => ((ui.device.value = 'wasm'), probe()) };

function send(msg: ToWorker): void {
  worker?.postMessage(msg);
}

/** A fresh worker (each run gets its own: a finished one keeps its model and files until replaced). */
function newWorker(): Worker {
  worker?.terminate();
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  w.addEventListener('message', (ev: MessageEvent<FromWorker>) => onMessage(ev.data));
  w.addEventListener('error', (ev) => notice(`The training worker failed: ${ev.message}`, 'error'));
  worker = w;
  return w;
}

function probe(): void {
  newWorker();
  send({ type: 'probe', device: ui.device.value as DeviceChoice });
}

function showBackend(b: BackendReport): void {
  ui.backend.textContent = `${b.kind === 'webgpu' ? 'WebGPU' : 'wasm (CPU)'} · ${b.description}${b.software ? ' [software]' : ''} · largest buffer ${fmtBytes(Math.min(b.maxBufferBytes, b.maxBindingBytes))} · ${b.reason}`;
}

function footprintText(f: Footprint): string {
  return (
    `${(f.params / 1e6).toFixed(1)}M parameters, ${(f.trainableParams / 1e6).toFixed(2)}M trained; ` +
    `weights ${fmtBytes(f.weightBytes)} + gradients and optimizer ${fmtBytes(f.optimizerBytes)} + activations ${fmtBytes(f.activationBytes)} + attention scratch ${fmtBytes(f.attentionScratchBytes)} ≈ ${fmtBytes(f.totalBytes)}`
  );
}

function showStep(u: StepUpdate): void {
  const r = u.report;
  ui.step.textContent = `${r.step} / ${u.totalSteps}`;
  ui.loss.textContent = r.loss.toFixed(4);
  ui.loss.dataset.value = String(r.loss); // the exact f32 value, for comparisons
  ui.lr.textContent = r.lr.toExponential(2);
  ui.tps.textContent = u.tokensPerSecond.toFixed(0);
  ui.eta.textContent = fmtDuration(u.etaSeconds);
  ui.memory.textContent = `${fmtBytes(u.liveBytes)} (peak ${fmtBytes(r.peakBytes)})`;
  ui.epoch.textContent = r.epoch.toFixed(2);
  records.push({ step: r.step, loss: r.loss });
  drawChart();
}

function drawChart(): void {
  ui.chart.innerHTML = lossCurveSvg(records, 'Stage I loss'); // our own SVG, from numbers
}

function setPhase(p: typeof phase): void {
  phase = p;
  const active = p === 'running' || p === 'paused';
  ui.start.disabled = active || !ready();
  ui.pause.disabled = !active;
  ui.pause.textContent = p === 'paused' ? 'Resume' : 'Pause';
  ui.stop.disabled = !active;
  ui.downloadCheckpoint.disabled = p === 'idle';
  ui.downloadAdapter.disabled = p === 'idle' || !lora;
}

function onMessage(msg: FromWorker): void {
  switch (msg.type) {
    case 'backend':
      return showBackend(msg.backend);
    case 'no-webgpu':
      return notice(`WebGPU is not available in this browser: ${msg.message}\nTraining can still run on the CPU with the wasm backend (much slower).`, 'warning', useWasm);
    case 'status':
      return log(msg.text);
    case 'plan':
      lora = msg.lora;
      ui.estimate.textContent = fmtBytes(msg.footprint.totalBytes);
      ui.estimate.title = footprintText(msg.footprint);
      log(`${msg.samples} training samples, ${msg.totalSteps} steps${msg.resumedAt ? `, resuming after step ${msg.resumedAt}` : ''}; ${footprintText(msg.footprint)}`);
      for (const s of msg.skipped.slice(0, 20)) log(`skipped ${s}`);
      if (msg.skipped.length > 20) log(`… ${msg.skipped.length - 20} more lines skipped`);
      return setPhase('running');
    case 'no-fit': {
      setPhase('idle');
      const wasmFits = msg.footprint.totalBytes < WASM_MEMORY && msg.backend.kind === 'webgpu';
      return notice(
        `This model does not fit the adapter (${msg.backend.description}):\n${msg.problems.map((p) => `• ${p}`).join('\n')}\nEstimate: ${footprintText(msg.footprint)}.`,
        'error',
        wasmFits ? useWasm : undefined,
      );
    }
    case 'step':
      return showStep(msg);
    case 'eval':
      ui.evalLoss.textContent = msg.loss.toFixed(4);
      ui.evalLoss.dataset.value = String(msg.loss);
      ui.evalLoss.dataset.step = String(msg.step);
      records.push({ step: msg.step, eval_loss: msg.loss });
      drawChart();
      return log(`step ${msg.step}: held-out loss ${msg.loss.toFixed(4)}`);
    case 'sample': {
      const li = document.createElement('li');
      li.dataset.step = String(msg.step);
      li.dataset.id = msg.id;
      const verdict = document.createElement('b');
      verdict.textContent = msg.correct ? '✓' : '✗';
      li.append(verdict, ` step ${msg.step} · ${msg.id} — expected ${msg.expected}, got ${msg.got ?? '(no <answer>)'}`, document.createElement('br'));
      const q = document.createElement('q');
      q.textContent = msg.output;
      li.append(q);
      ui.samples.prepend(li);
      return;
    }
    case 'checkpoint':
      return log(`saved checkpoint at step ${msg.step}`);
    case 'paused':
      log(`paused after step ${msg.step}`);
      return setPhase('paused');
    case 'resumed':
      log('resumed');
      return setPhase('running');
    case 'done':
      log(msg.stopped ? `stopped after step ${msg.step}` : `finished: ${msg.step} steps`);
      return setPhase('done');
    case 'download': {
      const url = URL.createObjectURL(new Blob([msg.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = msg.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      return log(`downloaded ${msg.name}`);
    }
    case 'error':
      log(`error: ${msg.message}`);
      return notice(msg.message, 'error');
    case 'failed':
      log(`training failed: ${msg.message}`);
      setPhase(records.length ? 'done' : 'idle'); // after some steps, what was trained can still be downloaded
      return notice(msg.message, 'error');
  }
}

function ready(): boolean {
  return picked.model.length > 0 && ui.trainFile.value !== '';
}

function listData(): void {
  const jsonl = picked.data.filter((f) => /\.jsonl?$/i.test(f.path)).map((f) => f.path);
  ui.dataPicked.textContent = picked.data.length ? `${picked.data.length} files` : 'none';
  const guessTrain = jsonl.find((p) => /train/i.test(p)) ?? jsonl[0] ?? '';
  const guessEval = jsonl.find((p) => /eval|valid|test|held/i.test(p) && p !== guessTrain) ?? '';
  ui.trainFile.replaceChildren(...jsonl.map((p) => new Option(p, p, false, p === guessTrain)));
  ui.evalFile.replaceChildren(new Option('none', ''), ...jsonl.map((p) => new Option(p, p, false, p === guessEval)));
  setPhase(phase);
}

function setModel(files: PickedFile[]): void {
  picked.model = files;
  const names = files.map((f) => f.path);
  ui.modelPicked.textContent = files.length ? `${files.length} files${names.includes('config.json') ? '' : ' — no config.json!'}` : 'none';
  setPhase(phase);
}

function setData(files: PickedFile[]): void {
  picked.data = files;
  listData();
}

function setResume(files: PickedFile[]): void {
  picked.resume = files;
  ui.resumePicked.textContent = files.length ? `${files.length} files: ${files.map((f) => f.path).join(', ')}` : 'none';
}

/** Form fields as `mede2 sft` options (empty fields are left to the defaults). */
function formOptions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(ui.options)) if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  return out;
}

function start(): void {
  records.length = 0;
  ui.samples.replaceChildren();
  drawChart();
  ui.message.hidden = true;
  newWorker();
  send({
    type: 'start',
    model: picked.model,
    data: picked.data,
    trainFile: ui.trainFile.value,
    evalFile: ui.evalFile.value || undefined,
    options: formOptions(),
    resume: picked.resume.length ? picked.resume : undefined,
  });
  log('starting');
  setPhase('running');
  ui.start.disabled = true;
}

function dropZone(zone: HTMLElement, take: (files: PickedFile[]) => void): void {
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    if (ev.dataTransfer) fromDrop(ev.dataTransfer).then(take, (e: Error) => notice(`Could not read the dropped files: ${e.message}`, 'error'));
  });
}

ui.modelInput.addEventListener('change', () => setModel(fromInput(ui.modelInput)));
ui.dataInput.addEventListener('change', () => setData(fromInput(ui.dataInput)));
ui.dataFolderInput.addEventListener('change', () => setData(fromInput(ui.dataFolderInput)));
ui.resumeInput.addEventListener('change', () => {
  const f = ui.resumeInput.files?.[0];
  if (f) fromZip(f).then(setResume, (e: Error) => notice(e.message, 'error'));
});
ui.resumeFolderInput.addEventListener('change', () => setResume(fromInput(ui.resumeFolderInput)));
ui.trainFile.addEventListener('change', () => setPhase(phase));
ui.device.addEventListener('change', probe);
dropZone(ui.modelDrop, setModel);
dropZone(ui.dataDrop, setData);
ui.start.addEventListener('click', start);
ui.pause.addEventListener('click', () => send({ type: phase === 'paused' ? 'resume' : 'pause' }));
ui.stop.addEventListener('click', () => send({ type: 'stop' }));
ui.downloadCheckpoint.addEventListener('click', () => send({ type: 'download', what: 'checkpoint' }));
ui.downloadAdapter.addEventListener('click', () => send({ type: 'download', what: 'adapter' }));

drawChart();
probe();
