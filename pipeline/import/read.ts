/**
 * Documents from whatever a user points a training command at: stage outputs and shard
 * files, or the files `refinery import` reads (JSONL, JSONL.gz, text), read in place.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listTasks } from '../core/inputs.js';
import type { Doc } from '../core/schema.js';
import { openShard } from '../core/shard-reader.js';
import type { TaskContext } from '../core/stage.js';
import { importStage } from './index.js';

/** A shard file, or a directory of them (a stage output, its _excluded/ part). */
const isShardInput = (input: string) =>
  input.endsWith('.arrow') || (existsSync(input) && statSync(input).isDirectory() && (existsSync(join(input, '_manifest.json')) || readdirSync(input).some((n) => n.endsWith('.arrow'))));

/** The documents in `inputs`: stage outputs and shards, or files `refinery import` reads (.txt: a document per line, or per file). */
export async function* readDocs(inputs: readonly string[], what: string, txtMode: 'file' | 'line' = 'line'): AsyncGenerator<Doc> {
  const shards = inputs.filter(isShardInput);
  const files = inputs.filter((i) => !isShardInput(i));
  for (const task of shards.length ? listTasks({ kind: 'shards' }, shards) : []) {
    const shard = await openShard(task.path);
    try {
      yield* shard.docs();
    } finally {
      await shard.close();
    }
  }
  if (files.length === 0) return;
  const config = importStage.options.parse({ txt_mode: txtMode });
  const ctx: TaskContext = {
    task: { index: 0, path: '', rel: '' },
    reject: () => {},
    problem: (where, reason) => process.stderr.write(`${what}: ${where}: ${reason}\n`),
    count: () => {},
  };
  for (const task of listTasks(importStage.input, files)) {
    const source = await importStage.open?.(task, config, { ...ctx, task });
    yield* source?.docs ?? [];
  }
}
