/**
 * Task claims: two runs into one output (two terminals, a rerun while a run is still going)
 * must not run a task twice. Before a run starts a task it creates `_running/task-TTTTT`
 * exclusively (O_EXCL), holding its host and pid; it removes the file when the task is done
 * or failed. A run that finds a task claimed waits for it. A claim is stale, and taken over,
 * when its process is gone (same host), or when its holder stopped touching it (any host:
 * a holder touches its claims every HEARTBEAT_MS).
 */
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { layout } from './layout.js';

const claimFile = layout.claimFile;

export const HEARTBEAT_MS = 20_000;
const STALE_MS = 10 * HEARTBEAT_MS;

interface Holder {
  host: string;
  pid: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Who holds the claim on `task`, or null when nobody does (no claim, or a stale one). */
export function claimHolder(out: string, task: number): Holder | null {
  const file = claimFile(out, task);
  let touched: number;
  try {
    touched = statSync(file).mtimeMs;
  } catch {
    return null;
  }
  if (Date.now() - touched > STALE_MS) return null;
  let holder: Holder;
  try {
    holder = JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return { host: '?', pid: 0 }; // being written (or removed) right now
  }
  if (holder.host === hostname() && holder.pid !== process.pid && !alive(holder.pid)) return null;
  return holder;
}

/** Claim `task` for this process; false when another live process holds it. */
export function claimTask(out: string, task: number): boolean {
  const file = claimFile(out, task);
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      mkdirSync(layout.runningDir(out), { recursive: true });
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify({ host: hostname(), pid: process.pid } satisfies Holder));
      closeSync(fd);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // another run removed an empty _running/ just now
      if (code !== 'EEXIST') throw err;
    }
    if (claimHolder(out, task)) return false;
    // Stale: take it over. Two runs that take over the same stale claim in the same instant
    // could both run the task; that needs a crashed run and two new ones at once.
    rmSync(file, { force: true });
  }
  return false;
}

export function releaseTask(out: string, task: number): void {
  rmSync(claimFile(out, task), { force: true });
}

/** A live claim of another process in `out`, if any. */
export function liveClaim(out: string): Holder | null {
  let names: string[];
  try {
    names = readdirSync(layout.runningDir(out));
  } catch {
    return null;
  }
  for (const name of names) {
    const task = /^task-(\d+)$/.exec(name);
    const holder = task ? claimHolder(out, Number(task[1])) : null;
    if (holder && holder.pid !== process.pid) return holder;
  }
  return null;
}

/** Remove `_running/` when no claim is left in it (another run's claim keeps it). */
export function tidyClaims(out: string): void {
  try {
    rmdirSync(layout.runningDir(out));
  } catch {
    // not empty, or gone
  }
}

/** Keep this process's claims fresh while it runs them; returns the function that stops. */
export function heartbeat(out: string, held: ReadonlySet<number>): () => void {
  const timer = setInterval(() => {
    const now = new Date();
    for (const task of held) {
      try {
        utimesSync(claimFile(out, task), now, now);
      } catch {
        // released meanwhile
      }
    }
  }, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}
