/**
 * Checkpoints: a directory holding state.json (model config, step, tokens seen, elapsed time,
 * the run's config), weights.bin (every parameter, float32, in the model's parameter order)
 * and adam.bin (the optimizer's first and second moments, same order). Written to a
 * temporary directory and renamed, so a checkpoint is whole or absent.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../pipeline/core/errors.js';
import { parameterShapes, type ModelConfig } from './model.js';

export interface CheckpointState {
  format: 'refinery-gpt-1';
  model: ModelConfig;
  step: number;
  tokens: number;
  seconds: number;
  adam_t: number;
  tokenizer: string | null;
  /** Id (hash of tokenizer.json) of the tokenizer the training tokens were made with; absent in older checkpoints. */
  tokenizer_id?: string;
  config: Record<string, unknown>;
}

/**
 * Refuse to continue a checkpoint on tokens of another tokenizer: two tokenizers with the same
 * vocabulary size give the same shapes, so nothing else would notice.
 */
export function checkSameTokenizer(where: string, state: CheckpointState, tokenizerId: string): void {
  if (state.tokenizer_id !== undefined && tokenizerId && state.tokenizer_id !== tokenizerId) {
    throw new UserError(`${where}: trained on tokens of tokenizer ${state.tokenizer_id}, but these token shards were made by tokenizer ${tokenizerId}; tokenize with the checkpoint's tokenizer or start a new run`);
  }
}

export interface Checkpoint {
  state: CheckpointState;
  weights: Map<string, Float32Array>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

function pack(model: ModelConfig, values: Map<string, Float32Array>): Buffer {
  const parts = parameterShapes(model).map(([name]) => {
    const v = values.get(name);
    if (!v) throw new Error(`checkpoint: no values for ${name}`);
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  });
  return Buffer.concat(parts);
}

function unpack(model: ModelConfig, bytes: Buffer, file: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let at = 0;
  for (const [name, shape] of parameterShapes(model)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (at + n * 4 > bytes.length) throw new UserError(`${file}: too short for the model in state.json`);
    out.set(name, new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + n * 4)));
    at += n * 4;
  }
  if (at !== bytes.length) throw new UserError(`${file}: ${bytes.length - at} bytes more than the model in state.json`);
  return out;
}

export function saveCheckpoint(dir: string, c: Checkpoint): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'weights.bin'), pack(c.state.model, c.weights));
  writeFileSync(join(tmp, 'adam.bin'), Buffer.concat([pack(c.state.model, c.m), pack(c.state.model, c.v)]));
  writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(c.state, null, 1)}\n`);
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export function loadCheckpoint(dir: string, withOptimizer = true): Checkpoint {
  const stateFile = join(dir, 'state.json');
  if (!existsSync(stateFile)) throw new UserError(`${dir}: not a checkpoint (no state.json)`);
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as CheckpointState;
  if (state.format !== 'refinery-gpt-1') throw new UserError(`${stateFile}: unknown checkpoint format ${String(state.format)}`);
  const weights = unpack(state.model, readFileSync(join(dir, 'weights.bin')), join(dir, 'weights.bin'));
  let m = new Map<string, Float32Array>();
  let v = new Map<string, Float32Array>();
  if (withOptimizer) {
    const adam = readFileSync(join(dir, 'adam.bin'));
    m = unpack(state.model, adam.subarray(0, adam.length / 2), join(dir, 'adam.bin'));
    v = unpack(state.model, adam.subarray(adam.length / 2), join(dir, 'adam.bin'));
  }
  return { state, weights, m, v };
}
