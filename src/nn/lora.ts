// LoRA (Hu et al.) as PEFT implements it: y = x·Wᵀ + b + (dropout(x)·Aᵀ·Bᵀ)·s, with
// A [r, in] ~ kaiming-uniform(a=√5) (i.e. U(−1/√in, 1/√in)), B [out, r] = 0 and
// s = alpha / r (alpha / √r with rsLoRA). Targets are chosen by module-name pattern.
import type { Runtime } from '../tensor/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names or name suffixes (PEFT's list form), e.g. ["q_proj", "v_proj"], or one regex string matched against the full name. */
  targetModules: string[] | string;
  useRslora: boolean;
}

export const DEFAULT_LORA: LoraConfig = { r: 16, alpha: 32, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], useRslora: false };

/** PEFT's matching: a list matches a module whose name equals an entry or ends with "." + entry; a string is a full-match regex. */
export function isLoraTarget(moduleName: string, targets: string[] | string): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(moduleName);
  return targets.some((t) => moduleName === t || moduleName.endsWith(`.${t}`));
}

export interface LoraPair {
  a: Tensor;
  b: Tensor;
}

export class LoraAdapters {
  readonly pairs = new Map<string, LoraPair>();
  readonly scale: number;

  constructor(
    readonly rt: Runtime,
    readonly config: LoraConfig,
  ) {
    if (!(Number.isInteger(config.r) && config.r > 0)) throw new Error(`LoRA: r must be a positive integer, got ${config.r}`);
    if (!(config.dropout >= 0 && config.dropout < 1)) throw new Error(`LoRA: dropout must be in [0, 1), got ${config.dropout}`);
    this.scale = config.useRslora ? config.alpha / Math.sqrt(config.r) : config.alpha / config.r;
  }

  /** Creates the pair for a linear layer `name` with weight [out, in], PEFT's init. */
  add(name: string, outFeatures: number, inFeatures: number, rng: Rng): LoraPair {
    const { r } = this.config;
    const bound = 1 / Math.sqrt(inFeatures);
    const a = this.rt.parameter(rng.uniformArray(r * inFeatures, -bound, bound), [r, inFeatures], `${name}.lora_A.weight`);
    const b = this.rt.parameter(new Float32Array(outFeatures * r), [outFeatures, r], `${name}.lora_B.weight`);
    const pair = { a, b };
    this.pairs.set(name, pair);
    return pair;
  }

  parameters(): Tensor[] {
    return [...this.pairs.values()].flatMap((p) => [p.a, p.b]);
  }

  release(): void {
    for (const t of this.parameters()) t.release();
    this.pairs.clear();
  }
}
