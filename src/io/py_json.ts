// JSON text exactly as Python's json.dumps(obj, indent=2, sort_keys=True) writes it (the
// default ensure_ascii included), so files that peft and transformers write — adapter_config.json,
// model.safetensors.index.json — come out byte for byte the same from here. Python tells ints
// from floats; mark floats with pyFloat() (1 → "1", pyFloat(1) → "1.0", pyFloat(1e-5) → "1e-05").

export class PyFloat {
  constructor(readonly value: number) {}
}

export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

export type PyJson = null | boolean | number | string | PyFloat | PyJson[] | { [key: string]: PyJson };

/** Python's float repr: shortest round-trip digits, scientific below 1e-4 and from 1e16 on. */
function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [digits, exp] = x.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 16) return `${digits}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

/** A JSON string with every character outside printable ASCII escaped, as ensure_ascii does. */
function stringRepr(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** UTF-16 code unit order is Python's code point order for the BMP, which every key here is in. */
function render(v: PyJson, indent: string): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return stringRepr(v);
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`pythonJson: ${v} is not an integer; wrap floats in pyFloat()`);
    return String(v);
  }
  const inner = `${indent}  `;
  if (Array.isArray(v)) return v.length ? `[\n${v.map((x) => inner + render(x, inner)).join(',\n')}\n${indent}]` : '[]';
  const keys = Object.keys(v).sort();
  return keys.length ? `{\n${keys.map((k) => `${inner}${stringRepr(k)}: ${render(v[k], inner)}`).join(',\n')}\n${indent}}` : '{}';
}

export function pythonJson(value: PyJson): string {
  return render(value, '');
}
