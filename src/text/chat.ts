// Chat templates (tokenizer_config.json "chat_template" or chat_template.jinja) rendered
// with @huggingface/jinja in the context transformers gives them, and Qwen2-VL's image
// placeholders: one <|image_pad|> per image in the template, expanded to the image's
// grid_t·grid_h·grid_w / merge_size² tokens once the image processor has sized it.
import { Template } from '@huggingface/jinja';

export interface ChatContent {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatMessage {
  role: string;
  content: string | ChatContent[];
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  /** Further template variables (e.g. add_vision_id, tools). */
  [key: string]: unknown;
}

const SPECIAL_NAMES = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'];

export class ChatTemplate {
  private readonly template: Template;
  private readonly specials: Record<string, string> = {};

  constructor(source: string, tokenizerConfig: Record<string, unknown>) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new Error(`chat template: cannot parse (${(e as Error).message})`);
    }
    for (const name of SPECIAL_NAMES) {
      const v = tokenizerConfig[name];
      const content = typeof v === 'string' ? v : (v as { content?: unknown } | null)?.content;
      if (typeof content === 'string') this.specials[name] = content;
    }
  }

  /** The template in tokenizer_config.json: a string, or the "default" of a list of named templates. */
  static fromConfig(config: Record<string, unknown> | undefined): string | undefined {
    const t = config?.chat_template;
    if (typeof t === 'string') return t;
    if (Array.isArray(t)) {
      const named = t as { name?: string; template?: string }[];
      return (named.find((x) => x.name === 'default') ?? named[0])?.template;
    }
    return undefined;
  }

  render(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    const { addGenerationPrompt, ...extra } = options;
    return this.template.render({ ...this.specials, ...extra, messages, add_generation_prompt: addGenerationPrompt ?? false });
  }
}


/**
 * Expands each `token` placeholder (Qwen2-VL: '<|image_pad|>', or '<|video_pad|>') into
 * grid_t·grid_h·grid_w / mergeSize² copies, the i-th placeholder taking the i-th grid, as
 * Qwen2VLProcessor does before tokenizing.
 */
export function expandVisionPlaceholders(text: string, grids: [number, number, number][], mergeSize = 2, token = '<|image_pad|>'): string {
  const parts = text.split(token);
  if (parts.length - 1 !== grids.length)
    throw new Error(`expandVisionPlaceholders: the text has ${parts.length - 1} '${token}' placeholders but ${grids.length} grids were given`);
  let out = parts[0];
  grids.forEach(([t, h, w], i) => {
    const n = (t * h * w) / (mergeSize * mergeSize);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`expandVisionPlaceholders: grid ${i} [${t}, ${h}, ${w}] is not a positive multiple of merge_size² = ${mergeSize * mergeSize}`);
    out += token.repeat(n) + parts[i + 1];
  });
  return out;
}
