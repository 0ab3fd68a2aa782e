/** `refinery decontaminate` and `refinery decontaminate report`: evaluation items out of the training data, and where they were. */
import type { Command } from 'commander';
import type { Runner } from '../../core/executor.js';
import { decontaminateOperation, reportOperation } from '../../decontaminate/index.js';
import { addOperationCommand } from './stages.js';

export function addDecontaminateCommands(program: Command, runner: Runner): void {
  const cmd = addOperationCommand(program, decontaminateOperation, runner);
  addOperationCommand(cmd, reportOperation, runner, { name: 'report' });
}
