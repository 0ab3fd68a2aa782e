/**
 * How a command runs its plan: locally (core/run-plan.ts), or — when `refinery slurm` or
 * `refinery k8s` parse the same command to learn its plan — not at all, the plan being
 * handed to them instead. Also --list-phases and --prepare, which every operation has.
 */
import { UserError } from '../core/errors.js';
import type { Runner } from '../core/executor.js';
import { describePhase, phaseList, type Plan } from '../core/plan.js';
import { preparePlan, runPlan } from '../core/run-plan.js';

export interface ExecuteFlags {
  phase?: string;
  list_phases?: boolean;
  prepare?: boolean;
}

let captured: Plan[] | null = null;

/**
 * Run the plan as the flags say. Returns true when its last phase ran here, so the command
 * may print what that phase wrote (a table, a summary).
 */
export async function execute(plan: Plan, flags: ExecuteFlags, runner: Runner): Promise<boolean> {
  if (captured) {
    captured.push(plan);
    return false;
  }
  const log = runner.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (flags.list_phases) {
    process.stdout.write(`${phaseList(plan).map(describePhase).join('\n')}\n`);
    return false;
  }
  if (flags.prepare) {
    preparePlan(plan, log);
    log(`prepared: ${plan.parts.map((p) => p.ctx.out).join(', ')}`);
    return false;
  }
  return runPlan(plan, runner, flags.phase);
}

/** The plan a command line would run: `parse` runs the CLI over it with execution captured. */
export async function capturePlan(command: readonly string[], parse: () => Promise<unknown>): Promise<Plan> {
  const outer = captured;
  captured = [];
  try {
    await parse();
    const [plan] = captured;
    if (!plan) throw new UserError(`"${command.slice(0, 2).join(' ')}" is not an operation over inputs into an output (-o), so it has no phases to schedule`);
    return plan;
  } finally {
    captured = outer;
  }
}
