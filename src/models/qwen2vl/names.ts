// Parameter names in both Hugging Face layouts. Internally we use transformers 5's names
// (model.language_model.*, model.visual.*, lm_head.*); checkpoints are written back in the
// layout they were read in, so what we train loads wherever the original did.

export type WeightLayout = 'original' | 'transformers5';

/** The internal (transformers 5) name of a checkpoint key, and the layout it betrays (null for lm_head.*, the same in both). */
export function canonicalName(key: string): { name: string; layout: WeightLayout | null } {
  if (key.startsWith('model.language_model.') || key.startsWith('model.visual.')) return { name: key, layout: 'transformers5' };
  if (key.startsWith('visual.')) return { name: `model.${key}`, layout: 'original' };
  if (key.startsWith('model.')) return { name: `model.language_model.${key.slice('model.'.length)}`, layout: 'original' };
  return { name: key, layout: null };
}

/** The checkpoint key for an internal name in the given layout. */
export function layoutName(name: string, layout: WeightLayout): string {
  if (layout === 'transformers5') return name;
  if (name.startsWith('model.visual.')) return name.slice('model.'.length);
  if (name.startsWith('model.language_model.')) return `model.${name.slice('model.language_model.'.length)}`;
  return name;
}
