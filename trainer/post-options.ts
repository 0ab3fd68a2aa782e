/**
 * The options of `refinery sft`, `refinery dpo` and `refinery chat` (kept apart from sft.ts,
 * dpo.ts and chat.ts so the CLI can list them without loading TensorFlow.js). The optimizer's
 * knobs are train's own, with defaults for fine-tuning: a short warmup, then a linear decay to 0.
 */
import * as z from 'zod';
import { trainOptions } from './config.js';

const loop = trainOptions
  .pick({
    batch_size: true,
    grad_accum: true,
    max_seconds: true,
    stop_after: true,
    beta1: true,
    beta2: true,
    eps: true,
    grad_clip: true,
    log_every: true,
    checkpoint_every: true,
    seed: true,
    backend: true,
    native: true,
    threads: true,
    peak_flops: true,
    resume: true,
  })
  .extend({
    out: z.string().describe('run directory: metrics.jsonl, loss.svg, checkpoint/').meta({ value: 'dir' }),
    steps: z.number().int().min(1).default(300).describe('optimizer steps in all (the schedule spans them)'),
    lr: z.number().positive().default(1e-3).describe('peak learning rate'),
    min_lr: z.number().min(0).default(0).describe('learning rate at the end of the decay'),
    warmup: z.number().int().min(0).default(10).describe('linear warmup steps'),
    schedule: z.enum(['cosine', 'wsd', 'constant']).default('wsd').describe('after warmup: wsd with --decay-frac 1 is a linear decay over the whole run (the default); cosine; constant'),
    decay_frac: z.number().min(0).max(1).default(1).describe('WSD: share of the steps spent decaying'),
    weight_decay: z.number().min(0).default(0).describe('AdamW decoupled weight decay (matrices only)'),
    eval_every: z.number().int().min(1).default(50).describe('evaluate on --val-data every N steps (and at the end)'),
    tokenizer: z.string().optional().describe('the tokenizer with the chat tokens (default: the checkpoint\'s; refinery tokenizer add-special makes one)').meta({ value: 'tokenizer.json' }),
    max_examples: z.number().int().min(1).optional().describe('use at most N records of --data, spread evenly through the file (one from each of N equal stretches, so each task in it keeps its share): a quick run on part of the data'),
    max_val_examples: z.number().int().min(1).optional().describe('use at most N records of --val-data, spread evenly the same way (held-out scoring costs time at every eval)'),
  });

export const sftOptions = loop
  .extend({
    from: z.string().describe('the pretrained checkpoint to fine-tune (a run\'s out/checkpoint)').meta({ value: 'dir' }),
    data: z.string().describe('conversations: {"messages": [{"role", "content"}, ...]} or {"prompt", "response"} per line').meta({ value: 'conversations.jsonl' }),
    val_data: z.string().optional().describe('held-out conversations (same format): loss on their assistant tokens every eval, and --answers of them answered at the end').meta({ value: 'file.jsonl' }),
    packing: z.enum(['row', 'pack']).default('row').describe('row: one conversation per row (padded); pack: whole conversations packed into rows (attention crosses them, separated by <|endoftext|>)'),
    answers: z.number().int().min(0).default(100).describe('at the end, answer this many held-out prompts greedily: share ending with <|end|>, share exactly right'),
  })
  .strict();
export type SftConfig = z.infer<typeof sftOptions>;

export const dpoOptions = loop
  .extend({
    from: z.string().describe('the SFT checkpoint: the policy starts from it and it is the frozen reference').meta({ value: 'dir' }),
    data: z.string().describe('preference pairs: {"prompt", "chosen", "rejected"} per line (prompt: text or a messages list)').meta({ value: 'pairs.jsonl' }),
    val_data: z.string().optional().describe('held-out pairs: DPO loss, reward margin and preference accuracy every eval').meta({ value: 'pairs.jsonl' }),
    beta: z.number().positive().default(0.1).describe('DPO beta: how far the policy may move from the reference (higher: less)'),
    sft_weight: z
      .number()
      .min(0)
      .default(0)
      .describe("adds this weight x the chosen answers' negative log-likelihood per token to the loss (RPO, TRL's rpo_alpha; 0: plain DPO), so chosen answers stay likely while rejected ones are pushed down")
      .meta({ value: 'w' }),
    ref_sync_steps: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        "every N steps the reference becomes the policy as it is then (TR-DPO's hard update, TRL's sync_ref_model with ref_model_mixup_alpha 1), so the policy can move further than beta allows from the SFT model; 0: the SFT model throughout. Held-out rewards stay measured against the SFT model",
      )
      .meta({ value: 'n' }),
    batch_size: z.number().int().min(1).default(8).describe('preference pairs per micro-batch (each pair is two rows)'),
    steps: z.number().int().min(1).default(100).describe('optimizer steps in all (the schedule spans them)'),
    lr: z.number().positive().default(3e-4).describe('peak learning rate'),
  })
  .strict();
export type DpoConfig = z.infer<typeof dpoOptions>;

export const chatOptions = z
  .object({
    checkpoint: z.string().describe('a chat checkpoint (from refinery sft or dpo)').meta({ value: 'dir' }),
    tokenizer: z.string().optional().describe('the tokenizer (default: the checkpoint\'s)').meta({ value: 'tokenizer.json' }),
    prompt: z.string().optional().describe('answer this one message and exit (no terminal needed)').meta({ value: 'text' }),
    max_tokens: z.number().int().min(1).default(128).describe('at most this many tokens per answer'),
    temperature: z.number().min(0).default(0.7).describe('sampling temperature (0: greedy)').meta({ value: 't' }),
    top_k: z.number().int().min(0).default(40).describe('sample among the k most likely tokens (0: all)').meta({ value: 'k' }),
    seed: z.number().int().min(0).default(1).describe('sampling seed'),
    backend: trainOptions.shape.backend,
  })
  .strict();
export type ChatConfig = z.infer<typeof chatOptions>;
