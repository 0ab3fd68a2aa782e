/** `refinery mix` and `refinery select`: the mixture the model is trained on, and the high-quality subset. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { Runner } from '../../core/executor.js';
import { mixOptions, runMix, type MixConfig } from '../../mix/index.js';
import { mixSvg, mixTable } from '../../mix/report.js';
import { runSelect, selectOptions, type SelectConfig } from '../../select/index.js';
import { addRunCommand } from './stages.js';

export function addMixCommands(program: Command, runner: Runner): void {
  addRunCommand(program, {
    name: 'mix',
    summary: 'resample documents to target proportions per domain (weights or temperature)',
    description:
      'Counts each domain\'s documents and bytes, plans how often each document is used (explicit --weights, or temperature ' +
      'sampling p ~ n^(1/T)), capped at --max-epochs, within --budget; then writes the mix (repeats in part-*-rK files) and ' +
      'prints the before/after table per domain. The same seed gives the same mix. The plan and the table are kept in _mix.json.',
    options: mixOptions,
    extra: (cmd) => cmd.option('--json', 'print the table as JSON').option('--svg <file>', 'draw the shares before and after as an SVG chart'),
    async run(inputs, out, config, options, values) {
      const report = await runMix(inputs, out, config as MixConfig, options, runner);
      console.log(values.json ? JSON.stringify(report, null, 1) : mixTable(report));
      if (typeof values.svg === 'string') {
        mkdirSync(dirname(values.svg), { recursive: true });
        writeFileSync(values.svg, mixSvg(report));
      }
    },
  });
  addRunCommand(program, {
    name: 'select',
    summary: 'keep the documents with the best values of a column (--top 10%, --min X); split off validation data',
    description:
      'The high-quality subset the trainer anneals on: documents by the value of --by (a quality score, say), either a global ' +
      'share (--top, exact over all inputs, ties broken by a hash of the id) or bounds (--min, --max). --holdout writes ' +
      '<output>/train and <output>/validation, split by a hash of the id, so no document is in both.',
    options: selectOptions,
    run: (inputs, out, config, options) => runSelect(inputs, out, config as SelectConfig, options, runner),
  });
}
