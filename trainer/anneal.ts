/**
 * Does annealing on high-quality data pay? Two runs from the same start at equal compute
 * (same steps, batch and schedule): (a) batches switch to --anneal-data while the learning
 * rate decays, (b) a control that stays on the mix. Both are evaluated on the same
 * high-quality held-out set; the report says which ended lower, and by how much.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../pipeline/core/errors.js';
import { useBackend } from './backend.js';
import { loadCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { openTokens } from './data.js';
import { GPT } from './model.js';
import { evaluate, train, type TrainResult } from './train.js';

export interface AnnealReport {
  val_data: string;
  steps: number;
  start: { val_loss: number; val_bpb: number | null } | null;
  control: { val_loss: number | null; val_bpb: number | null; out: string };
  annealed: { val_loss: number | null; val_bpb: number | null; out: string };
  /** control - annealed validation loss (positive: annealing helped). */
  gain: number | null;
}

export async function compareAnneal(c: TrainConfig, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<AnnealReport> {
  if (!c.anneal_data) throw new UserError('anneal comparison: give --anneal-data (the high-quality token shards)');
  const valPath = c.val_data ?? c.anneal_data;
  const val = openTokens(valPath, 'val');
  if (!val) throw new UserError(`${valPath}: no validation split to compare on (give --val-data: high-quality held-out shards)`);
  let start: AnnealReport['start'] = null;
  if (c.resume_from) {
    await useBackend(c.backend, c.native, c.threads);
    const ck = loadCheckpoint(c.resume_from, false);
    const model = new GPT(ck.state.model, ck.weights);
    const loss = await evaluate(model, val, c.eval_batches, c.batch_size, ck.state.model.context);
    model.dispose();
    start = { val_loss: loss, val_bpb: val.bytesPerToken ? loss / Math.LN2 / val.bytesPerToken : null };
    log(`anneal: the starting checkpoint scores ${loss.toFixed(4)} on ${valPath}`);
  }
  const runs: Record<'control' | 'annealed', TrainResult> = {} as Record<'control' | 'annealed', TrainResult>;
  for (const kind of ['control', 'annealed'] as const) {
    log(`anneal: ${kind} run`);
    const out = join(c.out, kind);
    runs[kind] = await train({ ...c, out, val_data: valPath, anneal_data: kind === 'annealed' ? c.anneal_data : undefined, resume: false }, log);
  }
  tf.disposeVariables();
  const report: AnnealReport = {
    val_data: valPath,
    steps: c.steps,
    start,
    control: { val_loss: runs.control.val_loss, val_bpb: runs.control.val_bpb, out: join(c.out, 'control') },
    annealed: { val_loss: runs.annealed.val_loss, val_bpb: runs.annealed.val_bpb, out: join(c.out, 'annealed') },
    gain: runs.control.val_loss !== null && runs.annealed.val_loss !== null ? runs.control.val_loss - runs.annealed.val_loss : null,
  };
  writeFileSync(join(c.out, 'anneal.json'), `${JSON.stringify(report, null, 1)}\n`);
  return report;
}

export function annealTable(r: AnnealReport): string {
  const row = (name: string, loss: number | null | undefined, bpb: number | null | undefined) =>
    `${name.padEnd(32)} ${loss === null || loss === undefined ? '-'.padStart(8) : loss.toFixed(4).padStart(8)} ${loss ? Math.exp(loss).toFixed(2).padStart(10) : '-'.padStart(10)} ${bpb ? bpb.toFixed(4).padStart(10) : '-'.padStart(10)}`;
  const lines = [`${'high-quality validation'.padEnd(32)} ${'loss'.padStart(8)} ${'perplexity'.padStart(10)} ${'bits/byte'.padStart(10)}`];
  if (r.start) lines.push(row('start (checkpoint)', r.start.val_loss, r.start.val_bpb));
  lines.push(row(`control: mix, ${r.steps} steps`, r.control.val_loss, r.control.val_bpb), row(`annealed: HQ data, ${r.steps} steps`, r.annealed.val_loss, r.annealed.val_bpb));
  if (r.gain !== null) lines.push(r.gain > 0 ? `annealing on high-quality data lowered the validation loss by ${r.gain.toFixed(4)} nats/token at equal compute` : `annealing did not help here: the control is lower by ${(-r.gain).toFixed(4)} nats/token`);
  return lines.join('\n');
}
