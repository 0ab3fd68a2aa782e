/** `refinery decontaminate` and `refinery decontaminate report`: evaluation items out of the training data, and where they were. */
import type { Command } from 'commander';
import type { Runner } from '../../core/executor.js';
import { decontaminateOperation, reportOperation } from '../../decontaminate/index.js';
import { addOperationCommand } from './stages.js';

export function addDecontaminateCommands(program: Command, runner: Runner): void {
  const cmd = addOperationCommand(program, decontaminateOperation, runner);
  cmd.addHelpText(
    'after',
    '\nColumns added: decon_matches (int32, matching n-gram windows), decon_tasks (the suites matched, or null);\n' +
      'with --action remove-spans also decon_chars_removed. Exclusion reason: "contaminated: ..." with the item ids.',
  );
  const report = addOperationCommand(cmd, reportOperation, runner, { name: 'report' });
  report.addHelpText('after', '\nHere -o names the report file to write (JSON), not a directory; the per-task counts go to the work directory.');
}
