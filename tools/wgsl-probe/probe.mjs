// Times WGSL matmul kernels on the raw WebGPU API, beside the production `tiled` kernel
// (shaders/matmul.wgsl) in the same process: C = A·B, square f32, side n (a multiple of 128).
// `mirror` is the CUDA twin's algorithm (tools/sgemm-twin/twin.cu) written as plainly as WGSL
// allows; its options each undo one difference from the production kernel, so a run tells
// which difference costs what on this GPU, toggles included (MEDE2_DAWN_FLAGS, as in src/platform/node.ts).
//
//   node tools/wgsl-probe/probe.mjs [n] [variant ...]      (no Node on the GPU machine: carry .gpu)
import { readFileSync } from 'node:fs';
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);

// Pieces both mirrors share: a thread's 8×8 outputs as 16 vec4 accumulators acc{r}{h}, the fmas of
// one K-step (a0, a1: A quads; b0, b1: B quads), and the stores of the outputs.
const ACCS = Array.from({ length: 16 }, (_, i) => `acc${i >> 1}${i & 1}`);
const FMAS = Array.from({ length: 4 }, (_, r) => {
  const f = (acc, a, b) => `${acc} = fma(vec4f(${a}), ${b}, ${acc});`;
  const c = 'xyzw'[r];
  return f(`acc${r}0`, `a0.${c}`, 'b0') + f(`acc${r}1`, `a0.${c}`, 'b1') + f(`acc${r + 4}0`, `a1.${c}`, 'b0') + f(`acc${r + 4}1`, `a1.${c}`, 'b1');
});
// The bindings (side N, or read from the uniform with UNIFORM_DIMS) and each thread's indices:
// (tx, ty) for its outputs, (ar, ak) and (bk, bq) for the A and B quads it loads.
const BINDINGS = `override N: u32 = 4096u;
override UNIFORM_DIMS: bool = false;
override UNIFORM_LOOP: bool = false;
@group(0) @binding(0) var<uniform> dims: vec4u;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;`;
const THREAD = `  let n = select(N, dims.x, UNIFORM_DIMS);
  let tx = lid % 16u;
  let ty = lid / 16u;
  let row0 = wid.y * 128u;
  let col0 = wid.x * 128u;
  let ar = lid / 2u;
  let ak = 4u * (lid % 2u);
  let bk = lid / 32u;
  let bq = lid % 32u;`;
const STORES = Array.from({ length: 8 }, (_, r) => {
  const row = r < 4 ? `4u * ty + ${r}u` : `64u + 4u * ty + ${r - 4}u`;
  return `c[((row0 + ${row}) * n + col0) / 4u + tx] = acc${r}0; c[((row0 + ${row}) * n + col0) / 4u + 16u + tx] = acc${r}1;`;
});

/** The twin's kernel: 128×128 tile, 256 threads of 8×8 outputs, K-tiles of 8, register-staged. */
function mirror({ robustIdx = false, unroll = false } = {}) {
  // robustIdx: the thread's quad indices are clamped where they are computed (as the production kernel's
  // loop-invariant indexing lets the compiler do), instead of left to the per-access clamps.
  const q = (x) => (robustIdx ? `min(${x}, 63u)` : x);
  return /* wgsl */ `
${BINDINGS}
var<workgroup> ta: array<array<vec4f, 64>, 8>;
var<workgroup> tb: array<array<vec4f, 64>, 8>;

fn stash(buf: u32, ar: u32, ak: u32, bk: u32, bq: u32, sa: vec4f, sb: vec4f) {
  let q = 32u * buf + ar / 4u;
  ta[ak][q][ar % 4u] = sa.x;
  ta[ak + 1u][q][ar % 4u] = sa.y;
  ta[ak + 2u][q][ar % 4u] = sa.z;
  ta[ak + 3u][q][ar % 4u] = sa.w;
  tb[bk][32u * buf + bq] = sb;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
${THREAD}
  var sa = a[((row0 + ar) * n + ak) / 4u];
  var sb = b[(bk * n + col0) / 4u + bq];
  stash(0u, ar, ak, bk, bq, sa, sb);
  workgroupBarrier();
  ${ACCS.map((v) => `var ${v} = vec4f(0.0);`).join(' ')}
  let tiles = n / 8u;
  for (var t = 0u; t < tiles; t++) {
    let cur = t & 1u;
    let has_next = t + 1u < tiles;
    if (has_next) {
      let k0 = (t + 1u) * 8u;
      sa = a[((row0 + ar) * n + k0 + ak) / 4u];
      sb = b[((k0 + bk) * n + col0) / 4u + bq];
    }
    let qa = ${q('32u * cur + ty')};
    let qb = ${q('32u * cur + tx')};
    ${(unroll ? unrolled : (x) => `for (var kk = 0u; kk < 8u; kk++) {${x}}`)(`
      let a0 = ta[kk][qa];
      let a1 = ta[kk][qa + 16u];
      let b0 = tb[kk][qb];
      let b1 = tb[kk][qb + 16u];
      ${FMAS.join('\n      ')}
    `)}
    if (has_next) { stash(cur ^ 1u, ar, ak, bk, bq, sa, sb); }
    workgroupBarrier();
  }
  ${STORES.join('\n  ')}
}`;
}

/**
 * The mirror with K-tiles of 16 (two halves of 8) and one barrier per tile, so half the barriers:
 * `staged` halves of the next tile wait in registers during the multiply, the others are stored as
 * soon as they arrive (0, 1 or 2 staged; 2 is the production kernel's BK 16 in this layout).
 * Workgroup memory: 2 operands × 16 depths × 2 buffers × 32 quads × 16 B = 32 KiB.
 */
function mirror16({ staged = 1 } = {}) {
  const half = (h) => `let sa${h} = a[((row0 + ar) * n + k0 + ${8 * h}u + ak) / 4u]; let sb${h} = b[((k0 + ${8 * h}u + bk) * n + col0) / 4u + bq];`;
  const early = [0, 1].filter((h) => h >= staged);
  const late = [0, 1].filter((h) => h < staged);
  return /* wgsl */ `
${BINDINGS}
var<workgroup> ta: array<array<vec4f, 64>, 16>;
var<workgroup> tb: array<array<vec4f, 64>, 16>;

fn stash(buf: u32, h: u32, ar: u32, ak: u32, bk: u32, bq: u32, sa: vec4f, sb: vec4f) {
  let q = 32u * buf + ar / 4u;
  let d = 8u * h + ak;
  ta[d][q][ar % 4u] = sa.x;
  ta[d + 1u][q][ar % 4u] = sa.y;
  ta[d + 2u][q][ar % 4u] = sa.z;
  ta[d + 3u][q][ar % 4u] = sa.w;
  tb[8u * h + bk][32u * buf + bq] = sb;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
${THREAD}
  {
    let k0 = 0u;
    ${half(0)} ${half(1)}
    stash(0u, 0u, ar, ak, bk, bq, sa0, sb0);
    stash(0u, 1u, ar, ak, bk, bq, sa1, sb1);
  }
  workgroupBarrier();
  ${ACCS.map((v) => `var ${v} = vec4f(0.0);`).join(' ')}
  ${late.map((h) => `var sa${h} = vec4f(0.0); var sb${h} = vec4f(0.0);`).join(' ')}
  let tiles = n / 16u;
  for (var t = 0u; t < tiles; t++) {
    let cur = t & 1u;
    let has_next = t + 1u < tiles;
    if (has_next) {
      let k0 = (t + 1u) * 16u;
      ${early.map((h) => `{ ${half(h)} stash(cur ^ 1u, ${h}u, ar, ak, bk, bq, sa${h}, sb${h}); }`).join('\n      ')}
      ${late.map((h) => half(h).replace(/let (s[ab]\d)/g, '$1')).join('\n      ')}
    }
    let qa = 32u * cur + ty;
    let qb = 32u * cur + tx;
    ${unrolled(`
      let a0 = ta[kk][qa];
      let a1 = ta[kk][qa + 16u];
      let b0 = tb[kk][qb];
      let b1 = tb[kk][qb + 16u];
      ${FMAS.join('\n      ')}
    `, 16)}
    if (has_next) { ${late.map((h) => `stash(cur ^ 1u, ${h}u, ar, ak, bk, bq, sa${h}, sb${h});`).join(' ')} }
    workgroupBarrier();
  }
  ${STORES.join('\n  ')}
}`;
}


/**
 * The mirror generalised: `h` column quads per thread (2: the mirror's 8×8 outputs on a 128×128
 * tile; 4: 8×16 outputs on a 128×256 tile, twice the fmas per workgroup-memory read and per
 * barrier) and `bufs` staging buffers. With 2, the next K-tile waits in registers during the
 * multiply and is stored after it (the mirror). With 3, the tile loaded during the last multiply is
 * stored first, then the one after it is loaded: each load has a whole multiply to arrive, and its
 * load is still in flight at the barrier (which tells whether the barrier waits for it).
 */
function mirrorGen({ h = 2, bufs = 2, unroll3 = false } = {}) {
  const cols = 64 * h; // tile columns
  const bq = (cols / 4); // B quads per buffer
  const accs = [];
  for (let r = 0; r < 8; r++) for (let c = 0; c < h; c++) accs.push(`acc${r}${c}`);
  const fmas = [];
  for (let r = 0; r < 8; r++) for (let c = 0; c < h; c++) fmas.push(`acc${r}${c} = fma(vec4f(${r < 4 ? 'a0' : 'a1'}.${'xyzw'[r % 4]}), b${c}, acc${r}${c});`);
  const bLoads = cols / 4 * 8 / 256; // B quads per thread per K-tile
  const stores = [];
  for (let r = 0; r < 8; r++) {
    const row = r < 4 ? `4u * ty + ${r}u` : `64u + 4u * ty + ${r - 4}u`;
    for (let c = 0; c < h; c++) stores.push(`c[((row0 + ${row}) * n + col0) / 4u + ${16 * c}u + tx] = acc${r}${c};`);
  }
  const loadB = (k0, j) => `b[((${k0} + bk + ${(8 / bLoads) * j}u) * n + col0) / 4u + bq]`;
  const fetch = (k0) => `sa = a[((row0 + ar) * n + ${k0} + ak) / 4u]; ${Array.from({ length: bLoads }, (_, j) => `sb${j} = ${loadB(k0, j)};`).join(' ')}`;
  const stash = (buf) => `stash(${buf}, ar, ak, bk, bq, sa, ${Array.from({ length: bLoads }, (_, j) => `sb${j}`).join(', ')});`;
  const product = `let qa = 32u * cur + ty;
    let qb = ${bq}u * cur + tx;
    ${unrolled(`
      let a0 = ta[kk][qa];
      let a1 = ta[kk][qa + 16u];
      ${Array.from({ length: h }, (_, c) => `let b${c} = tb[kk][qb + ${16 * c}u];`).join(' ')}
      ${fmas.join('\n      ')}
    `)}`;
  // One K-tile t of the ring with buffer `cur` and the next buffer `nxt` (constants when unrolled by 3).
  const ringTile = (t, cur, nxt) => `let t = ${t}; let cur = ${cur};
    if (t + 1u < tiles) { ${stash(nxt)} }
    if (t + 2u < tiles) { let k0 = (t + 2u) * 8u; ${fetch('k0')} }
    ${product}
    workgroupBarrier();`;
  return /* wgsl */ `
${BINDINGS}
var<workgroup> ta: array<array<vec4f, ${32 * bufs}>, 8>;
var<workgroup> tb: array<array<vec4f, ${bq * bufs}>, 8>;

fn stash(buf: u32, ar: u32, ak: u32, bk: u32, bq: u32, sa: vec4f, ${Array.from({ length: bLoads }, (_, j) => `sb${j}: vec4f`).join(', ')}) {
  let q = 32u * buf + ar / 4u;
  ta[ak][q][ar % 4u] = sa.x;
  ta[ak + 1u][q][ar % 4u] = sa.y;
  ta[ak + 2u][q][ar % 4u] = sa.z;
  ta[ak + 3u][q][ar % 4u] = sa.w;
  ${Array.from({ length: bLoads }, (_, j) => `tb[bk + ${(8 / bLoads) * j}u][${bq}u * buf + bq] = sb${j};`).join('\n  ')}
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = select(N, dims.x, UNIFORM_DIMS);
  let depth = select(n, dims.x, UNIFORM_LOOP); // the K-loop's trip count alone from the uniform
  let tx = lid % 16u;
  let ty = lid / 16u;
  let row0 = wid.y * 128u;
  let col0 = wid.x * ${cols}u;
  let ar = lid / 2u;
  let ak = 4u * (lid % 2u);
  let bk = lid / ${bq}u;
  let bq = lid % ${bq}u;
  var sa: vec4f; ${Array.from({ length: bLoads }, (_, j) => `var sb${j}: vec4f;`).join(' ')}
  ${fetch('0u')}
  ${stash('0u')}
  let tiles = depth / 8u;
  ${bufs === 3 ? `if (tiles > 1u) { ${fetch('8u')} }` : ''}
  workgroupBarrier();
  ${accs.map((v) => `var ${v} = vec4f(0.0);`).join(' ')}
  ${unroll3 ? `var t0 = 0u;
  for (; t0 + 3u <= tiles; t0 += 3u) {
    ${[0, 1, 2].map((i) => `{ ${ringTile(`t0 + ${i}u`, `${i}u`, `${(i + 1) % 3}u`)} }`).join('\n    ')}
  }
  for (var t = t0; t < tiles; t++) { ${ringTile('t', 't % 3u', '(t + 1u) % 3u')} }` : bufs === 3
    ? `for (var t = 0u; t < tiles; t++) { ${ringTile('t', 't % 3u', '(t + 1u) % 3u')} }`
    : `for (var t = 0u; t < tiles; t++) {
    let cur = t & 1u;
    let has_next = t + 1u < tiles;
    if (has_next) { let k0 = (t + 1u) * 8u; ${fetch('k0')} }
    ${product}
    if (has_next) { ${stash('cur ^ 1u')} }
    workgroupBarrier();
  }`}
  ${stores.join('\n  ')}
}`;
}

/** A loop body over kk written out for kk = 0 … depth−1, each copy in its own block with kk a literal. */
function unrolled(body, depth = 8) {
  return Array.from({ length: depth }, (_, i) => `{ let kk = ${i}u; ${body} }`).join('\n');
}

/** The production kernel reading f32 B quads as one vec4 load (binding 8) instead of two vec2 loads. */
function withB4(code) {
  const from = 'if (B_DTYPE == 0u) { return bitcast<vec4f>(vec4u(b2[e / 2u], b2[e / 2u + 1u])); }';
  if (!code.includes(from)) throw new Error('withB4: b_vec changed');
  return code.replace(from, 'if (B_DTYPE == 0u) { return bq4[e / 4u]; }') + '\n@group(0) @binding(8) var<storage, read> bq4: array<vec4f>;\n';
}

const prodSource = readFileSync(new URL('../../shaders/matmul.wgsl', import.meta.url), 'utf8');
const ringSource = prodSource.replace('const BUFS: u32 = 2u;', 'const BUFS: u32 = 3u;');


const VARIANTS = {
  prod: { kind: 'prod', code: prodSource },
  'prod-k16': { kind: 'prod', code: prodSource, constants: { BK: 16 } },
  mirror: { kind: 'simple', code: mirror() },
  'mirror+uniform': { kind: 'simple', code: mirror(), constants: { UNIFORM_DIMS: 1 } },
  'mirror+clamp': { kind: 'simple', code: mirror({ robustIdx: true }) },
  'mirror+unroll': { kind: 'simple', code: mirror({ unroll: true }) },
  'mirror16/early': { kind: 'simple', code: mirror16({ staged: 0 }) },
  'mirror16/half': { kind: 'simple', code: mirror16({ staged: 1 }) },
  'mirror16/staged': { kind: 'simple', code: mirror16({ staged: 2 }) },
  'prod-ring': { kind: 'prod', code: ringSource, constants: { STAGED: 0 } }, // as the host runs a ring variant
  'prod-ring-staged': { kind: 'prod', code: ringSource },
  'prod-ring-b4': { kind: 'prod', b4: true, code: withB4(ringSource), constants: { STAGED: 0 } },
  'prod-b4': { kind: 'prod', b4: true, code: withB4(prodSource) },
  'gen/2x2': { kind: 'simple', code: mirrorGen() },
  'gen/2x3+uniform': { kind: 'simple', code: mirrorGen({ bufs: 3 }), constants: { UNIFORM_DIMS: 1 } },
  'gen/2x3+uniform-loop': { kind: 'simple', code: mirrorGen({ bufs: 3 }), constants: { UNIFORM_LOOP: 1 } },
  'gen/2x3u3': { kind: 'simple', code: mirrorGen({ bufs: 3, unroll3: true }) },
  'gen/2x3u3+uniform-loop': { kind: 'simple', code: mirrorGen({ bufs: 3, unroll3: true }), constants: { UNIFORM_LOOP: 1 } },
  'gen/2x3u3+uniform': { kind: 'simple', code: mirrorGen({ bufs: 3, unroll3: true }), constants: { UNIFORM_DIMS: 1 } },
  'gen/2x3': { kind: 'simple', code: mirrorGen({ bufs: 3 }) },
  'gen/4x2': { kind: 'simple', code: mirrorGen({ h: 4 }), cols: 256 },
  'gen/4x3': { kind: 'simple', code: mirrorGen({ h: 4, bufs: 3 }), cols: 256 },
};

let gpu;

async function main() {
  const n = Number(process.argv[2] ?? 4096);
  const names = process.argv.length > 3 ? process.argv.slice(3) : Object.keys(VARIANTS);
  const flags = (process.env.MEDE2_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean);
  gpu = create(flags); // kept referenced until exit: collecting it crashes Dawn
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const device = await adapter.requestDevice({
    requiredFeatures: ['timestamp-query'],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    },
  });
  device.addEventListener('uncapturederror', (e) => console.error('webgpu error:', e.error.message));
  const bytes = n * n * 4;
  const fill = (seed) => {
    const x = new Float32Array(n * n);
    let s = seed;
    for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = (s >>> 8) / 8388608 - 1; }
    return x;
  };
  const buffer = (data, usage) => {
    const buf = device.createBuffer({ size: bytes, usage: usage | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    if (data) device.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  const A = buffer(fill(1), GPUBufferUsage.STORAGE);
  const B = buffer(fill(2), GPUBufferUsage.STORAGE);
  const C = buffer(null, GPUBufferUsage.STORAGE);
  // prod's Params: m n k stride_a stride_b stride_out splits k_slice whole tiles_x (unsplit: whole and
  // tiles_x unused); mirror reads dims.x = n. The buffer is as large as Params (40 bytes) rounded to 16.
  const params = new Uint32Array([n, n, n, 0, 0, 0, 1, n, 0, 0]);
  const uni = device.createBuffer({ size: Math.ceil(params.byteLength / 16) * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uni, 0, params);
  const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const qs = device.createQuerySet({ type: 'timestamp', count: 2 });
  const qbuf = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const qread = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  let reference;
  let err;
  console.log(`n=${n} flags=[${flags.join(' ')}] adapter=${adapter.info.vendor} ${adapter.info.description}`);
  for (const name of names) {
    const v = VARIANTS[name];
    if (!v) throw new Error(`unknown variant ${name} (${Object.keys(VARIANTS).join(', ')})`);
    const module = device.createShaderModule({ code: v.code });
    const info = await module.getCompilationInfo();
    for (const m of info.messages) if (m.type === 'error') throw new Error(`${name}: ${m.lineNum}:${m.linePos} ${m.message}`);
    const pipeline = await device.createComputePipelineAsync({
      layout: 'auto',
      compute: v.kind === 'prod'
        ? { module, entryPoint: 'tiled', constants: { TM: 8, WX: 16, WY: 16, BK: 8, STAGED: 1, VEC_A: 1, VEC_B: 1, ...v.constants } }
        : { module, entryPoint: 'main', constants: { N: n, ...v.constants } },
    });
    const entries = v.kind === 'prod'
      ? [[0, uni], [1, A], [2, B], [3, C], [4, A], [5, B], ...(v.b4 ? [[8, B]] : [])]
      : [[0, uni], [1, A], [2, B], [3, C]];
    const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: entries.map(([binding, buffer]) => ({ binding, resource: { buffer } })) });
    const runs = 20;
    const times = [];
    for (let rep = 0; rep < 7; rep++) {
      const enc = device.createCommandEncoder();
      enc.clearBuffer(C);
      const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      for (let i = 0; i < runs; i++) pass.dispatchWorkgroups(n / (v.cols ?? 128), n / 128);
      pass.end();
      enc.resolveQuerySet(qs, 0, 2, qbuf, 0);
      enc.copyBufferToBuffer(qbuf, 0, qread, 0, 16);
      if (rep === 0) enc.copyBufferToBuffer(C, 0, read, 0, bytes);
      device.queue.submit([enc.finish()]);
      await qread.mapAsync(GPUMapMode.READ);
      const [t0, t1] = new BigUint64Array(qread.getMappedRange().slice(0));
      qread.unmap();
      if (rep > 1) times.push(Number(t1 - t0) / 1e6 / runs);
      if (rep === 0) {
        await read.mapAsync(GPUMapMode.READ);
        const out = new Float32Array(read.getMappedRange().slice(0));
        read.unmap();
        if (!reference) reference = out;
        let num = 0, den = 0;
        for (let i = 0; i < out.length; i++) { const d = out[i] - reference[i]; num += d * d; den += reference[i] * reference[i]; }
        err = Math.sqrt(num / den);
      }
    }
    times.sort((x, y) => x - y);
    const ms = times[times.length >> 1];
    console.log(`${name.padEnd(18)} ${ms.toFixed(3)} ms ${((2 * n ** 3) / ms / 1e9).toFixed(1)} TFLOP/s  rel diff to ${names[0]} ${err.toExponential(2)}`);
  }
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
