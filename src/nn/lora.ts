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
  /** Module names or name suffixes (PEFT's list form), e.g. ["q_proj", "v_proj"], one regex string matched against
   *  the full name, or PEFT's 'all-linear' (every linear layer but the output head). */
  targetModules: string[] | string;
  /** Modules to leave out even when targeted, matched as targetModules is (PEFT's exclude_modules). */
  excludeModules?: string[] | string;
  useRslora: boolean;
}

/** PEFT's shorthand for every linear layer except the output layer. */
export const ALL_LINEAR = 'all-linear';

export const DEFAULT_LORA: LoraConfig = { r: 16, alpha: 32, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], useRslora: false };

/** PEFT's matching: a list matches a module whose name equals an entry or ends with "." + entry; a string is a full-match regex. */
function matches(moduleName: string, patterns: string[] | string): boolean {
  if (typeof patterns === 'string') return new RegExp(`^(?:${patterns})$`).test(moduleName);
  return patterns.some((t) => moduleName === t || moduleName.endsWith(`.${t}`));
}

/** Whether the linear layer `moduleName` (never the output head: callers leave it out) gets a LoRA pair. */
export function isLoraTarget(moduleName: string, cfg: Pick<LoraConfig, 'targetModules' | 'excludeModules'>): boolean {
  if (cfg.excludeModules !== undefined && matches(moduleName, cfg.excludeModules)) return false;
  return cfg.targetModules === ALL_LINEAR || matches(moduleName, cfg.targetModules);
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
    const bound = 1 / Math.sqrt(inFeatures);
    return this.set(name, rng.uniformArray(this.config.r * inFeatures, -bound, bound), new Float32Array(outFeatures * this.config.r), outFeatures, inFeatures);
  }

  /** A pair with given weights: A [r, in] and B [out, r], row-major (e.g. read from an adapter file). */
  set(name: string, a: Float32Array, b: Float32Array, outFeatures: number, inFeatures: number): LoraPair {
    const { r } = this.config;
    if (this.pairs.has(name)) throw new Error(`LoRA: '${name}' already has a pair`);
    if (a.length !== r * inFeatures || b.length !== outFeatures * r)
      throw new Error(`LoRA '${name}': A has ${a.length} values and B ${b.length}; r=${r} on a [${outFeatures}, ${inFeatures}] layer needs ${r * inFeatures} and ${outFeatures * r}`);
    const pair = {
      a: this.rt.parameter(a, [r, inFeatures], `${name}.lora_A.weight`),
      b: this.rt.parameter(b, [outFeatures, r], `${name}.lora_B.weight`),
    };
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
