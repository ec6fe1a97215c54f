// Packs tokenized samples into rows of at most batchTokens tokens, for varlen attention: no
// padding, per-sample position ids from 0, cu_seqlens [0, l1, l1+l2, …]. Samples are taken in
// a per-epoch order (a seeded Fisher–Yates shuffle, or file order) and greedily appended to
// the current row while they fit. The iterator's position {epoch, index, rngState} is plain
// data: greedy packing is a function of where a row starts, so a resumed iterator yields
// exactly the rows an uninterrupted one would.
import { Rng } from '../util/rng.js';
import { IGNORE_INDEX } from './data/tokenize.js';

export interface PackableSample {
  id: string;
  inputIds: Int32Array;
  labels: Int32Array;
  /** Where the sample came from, for errors. */
  file?: string;
  line?: number;
}

export interface PackOptions {
  /** Most tokens per row. */
  batchTokens: number;
  /** Seeds the shuffle. */
  seed: number;
  /** Shuffle each epoch (training); false keeps file order (evaluation). Default true. */
  shuffle?: boolean;
}

export interface PackPosition {
  epoch: number;
  /** Index into the epoch's order of the next sample to pack. */
  index: number;
  /** The shuffle RNG's state before this epoch's shuffle. */
  rngState: number;
}

export interface PackedRow {
  epoch: number;
  inputIds: Int32Array;
  /** The samples' labels, with each sample's first token IGNORE_INDEX so no sample is predicted from the one before it. */
  labels: Int32Array;
  positionIds: Int32Array;
  cuSeqlens: Int32Array;
  sampleIds: string[];
  /** Tokens with a label: the loss's denominator for this row. */
  labelTokens: number;
}

export class Packer {
  readonly batchTokens: number;
  readonly shuffle: boolean;
  readonly seed: number;

  constructor(
    readonly samples: PackableSample[],
    options: PackOptions,
  ) {
    const { batchTokens } = options;
    if (!(Number.isInteger(batchTokens) && batchTokens > 0)) throw new Error(`packing: batchTokens must be a positive integer, got ${batchTokens}`);
    if (!samples.length) throw new Error('packing: no samples to pack (every line was skipped or dropped?)');
    this.batchTokens = batchTokens;
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed >>> 0;
    for (const s of samples) {
      const where = s.file ? ` (${s.file}:${s.line})` : '';
      if (s.inputIds.length !== s.labels.length) throw new Error(`packing: sample '${s.id}'${where} has ${s.inputIds.length} ids but ${s.labels.length} labels`);
      if (!s.inputIds.length) throw new Error(`packing: sample '${s.id}'${where} is empty`);
      if (s.inputIds.length > batchTokens)
        throw new Error(
          `packing: sample '${s.id}'${where} has ${s.inputIds.length} tokens, more than batchTokens ${batchTokens}; set --max-len to at most ${batchTokens} (with --truncation right or drop) or raise --batch-tokens`,
        );
    }
  }

  /** Where training starts. */
  start(): PackPosition {
    return { epoch: 0, index: 0, rngState: this.seed };
  }

  /** The sample order of the epoch whose shuffle starts from rngState, and the RNG state after it. */
  order(rngState: number): { order: Int32Array; next: number } {
    const n = this.samples.length;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    if (!this.shuffle) return { order, next: rngState };
    const rng = new Rng(rngState);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return { order, next: rng.state };
  }

  /** Index just past the samples packed into the row starting at `from` of `order`. */
  rowEnd(order: Int32Array, from: number): number {
    let tokens = 0;
    let i = from;
    while (i < order.length && tokens + this.samples[order[i]].inputIds.length <= this.batchTokens) tokens += this.samples[order[i++]].inputIds.length;
    return i;
  }

  /** Rows in each of the first `epochs` epochs (orders differ, so counts may). */
  rowsPerEpoch(epochs: number): number[] {
    const counts: number[] = [];
    let rngState = this.start().rngState;
    for (let e = 0; e < epochs; e++) {
      const { order, next } = this.order(rngState);
      let rows = 0;
      for (let i = 0; i < order.length; i = this.rowEnd(order, i)) rows++;
      counts.push(rows);
      rngState = next;
    }
    return counts;
  }

  /** An iterator from `position` (default: the start); it runs on through epochs until the caller stops. */
  iterate(position: PackPosition = this.start()): PackIterator {
    return new PackIterator(this, position);
  }

  /** Concatenates samples into one row. */
  buildRow(epoch: number, indices: ArrayLike<number>): PackedRow {
    let total = 0;
    for (let k = 0; k < indices.length; k++) total += this.samples[indices[k]].inputIds.length;
    const row: PackedRow = {
      epoch,
      inputIds: new Int32Array(total),
      labels: new Int32Array(total),
      positionIds: new Int32Array(total),
      cuSeqlens: new Int32Array(indices.length + 1),
      sampleIds: [],
      labelTokens: 0,
    };
    let at = 0;
    for (let k = 0; k < indices.length; k++) {
      const s = this.samples[indices[k]];
      const len = s.inputIds.length;
      row.inputIds.set(s.inputIds, at);
      row.labels.set(s.labels, at);
      row.labels[at] = IGNORE_INDEX;
      for (let i = 0; i < len; i++) row.positionIds[at + i] = i;
      at += len;
      row.cuSeqlens[k + 1] = at;
      row.sampleIds.push(s.id);
    }
    for (let i = 0; i < total; i++) if (row.labels[i] !== IGNORE_INDEX) row.labelTokens++;
    return row;
  }
}

export class PackIterator {
  private pos: PackPosition;
  private order!: Int32Array;
  private nextRngState!: number;

  constructor(
    private readonly packer: Packer,
    position: PackPosition,
  ) {
    const n = packer.samples.length;
    const { epoch, index, rngState } = position;
    if (!(Number.isInteger(epoch) && epoch >= 0 && Number.isInteger(index) && index >= 0 && index < n && Number.isInteger(rngState) && rngState >= 0 && rngState <= 0xffffffff))
      throw new Error(
        `packing: position ${JSON.stringify(position)} is not valid for ${n} samples (epoch ≥ 0, 0 ≤ index < ${n}, rngState a u32); was the checkpoint made with other data?`,
      );
    this.pos = { epoch, index, rngState };
    this.shuffleEpoch();
  }

  private shuffleEpoch(): void {
    const { order, next } = this.packer.order(this.pos.rngState);
    this.order = order;
    this.nextRngState = next;
  }

  /** Where the next row starts: save it to resume. */
  get position(): PackPosition {
    return { ...this.pos };
  }

  next(): PackedRow {
    const { index, epoch } = this.pos;
    const end = this.packer.rowEnd(this.order, index);
    const row = this.packer.buildRow(epoch, this.order.subarray(index, end));
    if (end < this.order.length) this.pos.index = end;
    else {
      this.pos = { epoch: epoch + 1, index: 0, rngState: this.nextRngState };
      this.shuffleEpoch();
    }
    return row;
  }
}
