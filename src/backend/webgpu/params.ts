// Packs a kernel's uniform parameters (u32/i32/f32 scalars in declaration order) into the
// 256-byte slot each dispatch gets. WGSL struct fields of these types are 4-byte aligned,
// so sequential packing matches a struct of scalars (and of array<vec4<u32>, N> blocks).

export const PARAM_SLOT_BYTES = 256;

export class Params {
  readonly view = new DataView(new ArrayBuffer(PARAM_SLOT_BYTES));
  private at = 0;

  private next(): number {
    if (this.at + 4 > PARAM_SLOT_BYTES) throw new Error(`kernel parameters exceed ${PARAM_SLOT_BYTES} bytes`);
    const at = this.at;
    this.at += 4;
    return at;
  }

  u32(...values: number[]): this {
    for (const v of values) this.view.setUint32(this.next(), v >>> 0, true);
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) this.view.setInt32(this.next(), v | 0, true);
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) this.view.setFloat32(this.next(), v, true);
    return this;
  }

  /** Pads with zeros to the next 16-byte boundary (start of a vec4 array field). */
  align16(): this {
    while (this.at % 16) this.u32(0);
    return this;
  }

  /** A fixed-length u32 array padded with zeros (for shapes/strides of rank ≤ len), 16-byte aligned. */
  u32Array(values: number[], len: number): this {
    if (values.length > len) throw new Error(`rank ${values.length} exceeds the kernel's maximum ${len}`);
    this.align16();
    for (let i = 0; i < len; i++) this.u32(values[i] ?? 0);
    return this;
  }

  get bytes(): number {
    return this.at;
  }
}
