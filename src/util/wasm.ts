// Instantiates an AssemblyScript module embedded by scripts/build.mjs (base64 in
// src/generated/wasm/<name>.ts), the same way in Node and the browser.

/** Decodes base64 without Node's Buffer, so the browser bundle needs no polyfill. */
export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Reads an AssemblyScript string (UTF-16, length at ptr-4) out of linear memory, for abort messages. */
function readAsString(memory: WebAssembly.Memory | undefined, ptr: number): string {
  if (!memory || !ptr) return '';
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, Math.min(len, 1024)));
}

export interface WasmInstance<E> {
  exports: E;
  memory: WebAssembly.Memory;
}

/** Compiles and instantiates once per name; `abort` from AssemblyScript becomes a JS Error naming the module and source line. */
export async function instantiateEmbedded<E>(name: string, wasmBase64: string): Promise<WasmInstance<E>> {
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      abort(msg: number, file: number, line: number, col: number): never {
        throw new Error(`wasm ${name}: ${readAsString(memory, msg) || 'abort'} at ${readAsString(memory, file)}:${line}:${col}`);
      },
      seed: (): number => 0x9e3779b9, // deterministic: nothing in our modules may depend on entropy
    },
  };
  const module = await WebAssembly.compile(base64ToBytes(wasmBase64) as Uint8Array<ArrayBuffer>);
  const instance = await WebAssembly.instantiate(module, imports);
  memory = instance.exports.memory as WebAssembly.Memory;
  return { exports: instance.exports as unknown as E, memory };
}
