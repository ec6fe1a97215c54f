// safetensors (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
// {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}} padded
// with spaces to a multiple of 8, then the tensor bytes (little-endian, row-major). The reader
// validates like the reference implementation — offsets must tile the data section exactly —
// and names the tensor and the problem; the writer orders tensors as the reference does
// (dtype alignment descending, then name) so its output is byte-identical to safetensors.save.

/** dtypes in the reference's enum order (the writer sorts by it, descending), with element bytes. */
const DTYPES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, F8_E4M3FNUZ: 1, F8_E5M2FNUZ: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, C64: 8, F64: 8, I64: 8, U64: 8,
} as const;
export type SafetensorsDtype = keyof typeof DTYPES;
const DTYPE_ORDER = Object.keys(DTYPES) as SafetensorsDtype[];

/** The reference refuses headers over 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range within the data section (which starts at `dataOffset` in the file). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** File offset of the data section: 8 + header length. */
  dataOffset: number;
  metadata: Record<string, string>;
  /** In file order (by offset). */
  tensors: Map<string, SafetensorsTensorInfo>;
}

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** A view into the file's bytes. */
  data: Uint8Array;
}

export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPES[dtype];
}

function isDtype(d: unknown): d is SafetensorsDtype {
  return typeof d === 'string' && Object.hasOwn(DTYPES, d);
}

function elements(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fail(msg: string): never {
  throw new Error(`safetensors: ${msg}`);
}

/**
 * Parses and validates the header. `bytes` may be just the start of the file (at least 8 + N
 * bytes); `fileLength` is the whole file's size, against which the tensor offsets are checked.
 */
export function readSafetensorsHeader(bytes: Uint8Array, fileLength = bytes.length): SafetensorsHeader {
  if (fileLength < 8) fail(`file is ${fileLength} bytes, too short for the 8-byte header length`);
  if (bytes.length < 8) fail(`need the first 8 bytes of the file, got ${bytes.length}`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} is over the ${MAX_HEADER_BYTES}-byte limit (corrupt, or not a safetensors file)`);
  const n = Number(n64);
  if (8 + n > fileLength) fail(`header length ${n} runs past the end of the ${fileLength}-byte file (truncated, or not a safetensors file)`);
  if (bytes.length < 8 + n) fail(`need the first ${8 + n} bytes of the file for its header, got ${bytes.length}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail("header does not start with '{' (not a safetensors file)");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('header is not a JSON object');
  const metadata: Record<string, string> = {};
  const infos: [string, SafetensorsTensorInfo][] = [];
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('__metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') fail(`__metadata__.${k} must be a string, got ${JSON.stringify(s)}`);
        metadata[k] = s;
      }
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null) fail(`tensor '${name}': entry is not an object`);
    if (!isDtype(t.dtype)) fail(`tensor '${name}': unknown dtype ${JSON.stringify(t.dtype)} (known: ${DTYPE_ORDER.join(', ')})`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}': shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    }
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      fail(`tensor '${name}': data_offsets ${JSON.stringify(off)} must be [begin, end] with 0 ≤ begin ≤ end`);
    }
    const need = elements(t.shape) * DTYPES[t.dtype];
    if (off[1] - off[0] !== need) {
      fail(`tensor '${name}': data_offsets [${off}] span ${off[1] - off[0]} bytes, but ${t.dtype} of shape [${t.shape}] needs ${need}`);
    }
    infos.push([name, { dtype: t.dtype, shape: t.shape as number[], begin: off[0], end: off[1] }]);
  }
  infos.sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let at = 0;
  let prev = '';
  for (const [name, t] of infos) {
    if (t.begin < at) fail(`tensors '${prev}' and '${name}' overlap (bytes ${t.begin}..${at} of the data section)`);
    if (t.begin > at) fail(`bytes ${at}..${t.begin} of the data section belong to no tensor (between '${prev || 'the header'}' and '${name}')`);
    at = t.end;
    prev = name;
  }
  const available = fileLength - 8 - n;
  if (at > available) fail(`truncated: the tensors need ${at} bytes of data, the file has ${available} after its header`);
  if (at < available) fail(`${available - at} bytes after the last tensor belong to no tensor (corrupt file)`);
  return { dataOffset: 8 + n, metadata, tensors: new Map(infos) };
}

/** Reads a whole file held in memory; tensor data are views into `bytes`. */
export function readSafetensors(bytes: Uint8Array): { metadata: Record<string, string>; tensors: Map<string, SafetensorsTensor> } {
  const h = readSafetensorsHeader(bytes);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, t] of h.tensors) {
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: bytes.subarray(h.dataOffset + t.begin, h.dataOffset + t.end) });
  }
  return { metadata: h.metadata, tensors };
}

export type TensorArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

/** The tensor's elements as a typed array (F16/BF16 as raw Uint16 bits, C64 as pairs of F32);
 *  copied when the bytes are not aligned for it. */
export function tensorArray(t: SafetensorsTensor): TensorArray {
  const ctor = {
    BOOL: Uint8Array, U8: Uint8Array, I8: Int8Array, F8_E5M2: Uint8Array, F8_E4M3: Uint8Array, F8_E8M0: Uint8Array,
    F8_E4M3FNUZ: Uint8Array, F8_E5M2FNUZ: Uint8Array, I16: Int16Array, U16: Uint16Array, F16: Uint16Array, BF16: Uint16Array,
    I32: Int32Array, U32: Uint32Array, F32: Float32Array, C64: Float32Array, F64: Float64Array, I64: BigInt64Array, U64: BigUint64Array,
  }[t.dtype];
  const data = t.data.byteOffset % ctor.BYTES_PER_ELEMENT ? t.data.slice() : t.data;
  return new ctor(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength / ctor.BYTES_PER_ELEMENT);
}

export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Little-endian element bytes (any typed array). */
  data: ArrayBufferView;
}

const utf8 = new TextEncoder();

/** UTF-8 byte order, as Rust's String comparison. */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * A safetensors file as chunks to write in order: the header, then each tensor's bytes (views of
 * the caller's data, not copies) — files over the 4 GiB a single typed array can hold included.
 */
export function safetensorsChunks(tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array[] {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  for (const [name, t] of entries) {
    if (name === '__metadata__') fail("a tensor cannot be named '__metadata__'");
    if (!isDtype(t.dtype)) fail(`tensor '${name}': unknown dtype ${JSON.stringify(t.dtype)} (known: ${DTYPE_ORDER.join(', ')})`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}': shape must be non-negative integers`);
    const need = elements(t.shape) * DTYPES[t.dtype];
    if (t.data.byteLength !== need) fail(`tensor '${name}': data has ${t.data.byteLength} bytes, ${t.dtype} of shape [${t.shape}] needs ${need}`);
  }
  entries.sort(([an, a], [bn, b]) => DTYPE_ORDER.indexOf(b.dtype) - DTYPE_ORDER.indexOf(a.dtype) || compareUtf8(an, bn));
  // written field by field: a JS object would move integer-like names ("0") to the front
  const fields: string[] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    for (const k of keys) if (typeof metadata[k] !== 'string') fail(`metadata '${k}' must be a string`);
    fields.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const info = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += t.data.byteLength;
  }
  const json = utf8.encode(`{${fields.join(',')}}`);
  const n = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + n);
  new DataView(header.buffer).setBigUint64(0, BigInt(n), true);
  header.set(json, 8);
  header.fill(0x20, 8 + json.length, 8 + n);
  return [header, ...entries.map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
}

/** Serializes tensors (and string metadata, keys sorted) into one safetensors file in memory. */
export function writeSafetensors(tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const chunks = safetensorsChunks(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
