/** `refinery mix` and `refinery select`: the mixture the model is trained on, and the high-quality subset. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { Runner } from '../../core/executor.js';
import { mixOperation, readMixReport } from '../../mix/index.js';
import { mixSvg, mixTable } from '../../mix/report.js';
import { selectOperation } from '../../select/index.js';
import { addOperationCommand } from './stages.js';

export function addMixCommands(program: Command, runner: Runner): void {
  addOperationCommand(program, mixOperation, runner, {
    extra: (cmd) => cmd.option('--json', 'print the table as JSON').option('--svg <file>', 'draw the shares before and after as an SVG chart'),
    after(out, values) {
      const report = readMixReport(out);
      console.log(values.json ? JSON.stringify(report, null, 1) : mixTable(report));
      if (typeof values.svg === 'string') {
        mkdirSync(dirname(values.svg), { recursive: true });
        writeFileSync(values.svg, mixSvg(report));
      }
    },
  });
  addOperationCommand(program, selectOperation, runner);
}
