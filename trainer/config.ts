/** Everything a training run needs, in one validated config (YAML keys = flags). */
import * as z from 'zod';

export const trainOptions = z
  .object({
    data: z.string().describe('token shards from "refinery tokenize" (its output directory, or a train/ folder)'),
    val_data: z.string().optional().describe('validation token shards (default: the val/ split of --data, when it has one)'),
    out: z.string().describe('run directory: metrics.jsonl, loss.svg, checkpoint/'),
    context: z.number().int().min(2).default(128).describe('model: context length in tokens'),
    d_model: z.number().int().min(2).default(128).describe('model: width'),
    layers: z.number().int().min(1).default(4).describe('model: transformer blocks'),
    heads: z.number().int().min(1).default(4).describe('model: attention heads (d_model divisible by heads)'),
    vocab_size: z.number().int().min(2).optional().describe('model: vocabulary size (default: the token shards\')'),
    batch_size: z.number().int().min(1).default(16).describe('sequences per micro-batch'),
    grad_accum: z.number().int().min(1).default(1).describe('micro-batches per optimizer step'),
    steps: z.number().int().min(1).default(1000).describe('optimizer steps in all (the schedule spans them)'),
    max_seconds: z.number().positive().optional().describe('stop (with a checkpoint) after this much training time; rerun to continue'),
    stop_after: z.number().int().min(1).optional().describe('stop (with a checkpoint) after this many steps in this invocation; rerun to continue (a job with a time limit)'),
    lr: z.number().positive().default(3e-3).describe('peak learning rate'),
    min_lr: z.number().min(0).default(3e-4).describe('learning rate at the end of the decay'),
    warmup: z.number().int().min(0).default(50).describe('linear warmup steps'),
    schedule: z.enum(['cosine', 'wsd', 'constant']).default('cosine').describe('after warmup: cosine decay, WSD (constant, then linear decay over --decay-frac), or constant'),
    decay_frac: z.number().min(0).max(1).default(0.2).describe('WSD: share of the steps spent decaying'),
    weight_decay: z.number().min(0).default(0.1).describe('AdamW decoupled weight decay (matrices only: not embeddings, norms, biases)'),
    beta1: z.number().min(0).max(1).default(0.9).describe('AdamW beta1'),
    beta2: z.number().min(0).max(1).default(0.95).describe('AdamW beta2'),
    eps: z.number().positive().default(1e-8).describe('AdamW epsilon'),
    grad_clip: z.number().min(0).default(1).describe('clip gradients to this global norm (0: off)'),
    eval_every: z.number().int().min(1).default(100).describe('evaluate on the validation data every N steps (and at the end)'),
    eval_batches: z.number().int().min(1).default(8).describe('validation batches per evaluation'),
    log_every: z.number().int().min(1).default(10).describe('write a metrics line every N steps'),
    checkpoint_every: z.number().int().min(1).default(500).describe('save a checkpoint every N steps (and at the end)'),
    seed: z.number().int().min(0).default(1).describe('initialisation and data order'),
    backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']).default('auto').describe('tensor backend: libtensorflow (when installed), WebGPU (auto: on a hardware adapter; asked for: also the software one), WebAssembly, or plain JavaScript'),
    native: z.boolean().default(true).describe('use the native kernels (OpenBLAS matrix products, fused attention) when built'),
    threads: z.number().int().min(1).default(1).describe('native kernels: OpenBLAS threads'),
    peak_flops: z.number().positive().optional().describe('the backend\'s matrix-product peak in FLOP/s for MFU (default: measured at start, as --calibrate does)'),
    resume: z.boolean().default(true).describe('continue from out/checkpoint when it exists'),
    resume_from: z.string().optional().describe('start from this checkpoint\'s weights and optimizer state (a new run: its own steps and schedule), e.g. to anneal a pretrained model'),
    anneal_data: z.string().optional().describe('high-quality token shards that batches switch to during the decay (WSD: the last --decay-frac of steps; with --init-from: all of them)'),
    anneal_share: z.number().min(0).max(1).default(1).describe('share of each batch drawn from --anneal-data while annealing (0.3: a 30% HQ / 70% mix blend)'),
  })
  .strict();
export type TrainConfig = z.infer<typeof trainOptions>;
