#!/usr/bin/env node
/**
 * The `refinery` command line: a thin face over the stages and tools. It parses flags
 * and YAML, then calls one library function; no stage logic lives here. Each family of
 * commands is a small module in commands/; this file wires them into one program.
 *
 * Exit codes: 0 success; 1 a run failed (a task failed, accounting broke); 2 bad usage
 * or bad input (unknown flag, missing path, foreign file, invalid config).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { RunError, UserError, errorMessage } from '../core/errors.js';
import type { Runner } from '../core/executor.js';
import { addDecontaminateCommands } from './commands/decontaminate.js';
import { addDedupCommands } from './commands/dedup.js';
import { addInspectCommands } from './commands/inspect.js';
import { addMixCommands } from './commands/mix.js';
import { addQualityCommands } from './commands/quality.js';
import { addK8sCommand, addRunPipelineCommand, addSlurmCommand, planOfCommand } from './commands/schedulers.js';
import { addStageCommands } from './commands/stages.js';
import { addTokenizerCommands } from './commands/tokenizer.js';
import { addToolCommands } from './commands/tools.js';
import { addTrainerCommands } from './commands/trainer.js';
import { addViewCommand } from './commands/view.js';

const here = dirname(fileURLToPath(import.meta.url));

function packageVersion(): string {
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'refinery') return pkg.version ?? '0.0.0';
    }
  }
  return '0.0.0';
}

/** The pool worker next to this file once compiled; absent when running from sources (tests). */
function workerScript(): string | undefined {
  const script = join(here, '..', 'worker.js');
  return existsSync(script) ? script : undefined;
}

const VERSION = packageVersion();

/** How commands run plans: the compiled pool worker, this version, and the command line (for job processes). */
function buildProgram(argv: readonly string[]): Command {
  const runner: Runner = { workerScript: workerScript(), version: VERSION, argv };
  const program = new Command('refinery')
    .description('Turn raw web crawls into LLM pretraining data: every stage reads and writes Arrow shards.')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`${str.trim().split('\n').join(' ').replace(/^error: /, 'refinery: ')}\n`) });
  program.configureHelp({ showGlobalOptions: false, sortSubcommands: false });

  // In the order `refinery --help` lists them.
  addStageCommands(program, runner);
  addDedupCommands(program, runner);
  addQualityCommands(program, runner);
  addDecontaminateCommands(program, runner);
  addMixCommands(program, runner);
  addTokenizerCommands(program, runner);
  addTrainerCommands(program);
  addRunPipelineCommand(program, runner);
  // The schedulers learn a command's plan by parsing it with a program of their own.
  const planOf = planOfCommand((command) => buildProgram(command).parseAsync(command, { from: 'user' }));
  addSlurmCommand(program, join(here, 'main.js'), planOf);
  addK8sCommand(program, planOf);
  addToolCommands(program);
  addInspectCommands(program);
  addViewCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were printed by commander on one line.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`refinery: ${err.message}\n`);
      return 2;
    }
    if (err instanceof RunError) {
      process.stderr.write(`refinery: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`refinery: ${process.env.REFINERY_DEBUG ? (err as Error).stack : errorMessage(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
