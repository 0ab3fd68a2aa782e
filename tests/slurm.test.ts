/**
 * `refinery slurm` on a real single-node Slurm (Debian's slurmctld, slurmd and munge, started
 * here and stopped after): a stage as a 4-task array gives exactly the local run's output, and
 * every operation of several phases (dedup, mix, select --top, quality --keep-top, line
 * dedup, a whole pipeline file) as a chain of dependent jobs the local run's decisions. Without Slurm the
 * tests skip, except under CI, where .ci/run installs it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBrownJsonl } from '../datasets/brown.js';
import { cleanup, cli, cliAsync, cliOk, tempDir } from './helpers/cli.js';
import { PLAN_CASES, buildFixtures, outcome, phasesOf, type Fixtures } from './helpers/plan-cases.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const available = has('sbatch') && has('slurmctld') && has('slurmd') && has('munged');
if (!available && process.env.CI === 'true') throw new Error('Slurm is not installed (CI=true: .ci/run installs slurmctld, slurmd, slurm-client and munge)');

const dir = tempDir();
const started: string[] = [];
let f: Fixtures;

function startSlurm(): void {
  const state = join(dir, 'slurm');
  for (const d of ['state', 'spool', 'log']) mkdirSync(join(state, d), { recursive: true });
  const conf = join(state, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=refinery-test',
      `SlurmctldHost=${hostname()}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${state}/state`,
      `SlurmdSpoolDir=${state}/spool`,
      `SlurmctldLogFile=${state}/log/slurmctld.log`,
      `SlurmdLogFile=${state}/log/slurmd.log`,
      `SlurmctldPidFile=${state}/slurmctld.pid`,
      `SlurmdPidFile=${state}/slurmd.pid`,
      // No systemd and no cgroups here: plain process tracking, no task plugin.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SchedulerParameters=batch_sched_delay=0',
      'SelectType=select/cons_tres',
      'ReturnToService=2',
      'MpiDefault=none',
      `NodeName=${hostname()} CPUs=2 State=UNKNOWN`,
      'PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4',
    ].join('\n'),
  );
  process.env.SLURM_CONF = conf;
  if (spawnSync('sh', ['-c', 'munge -n | unmunge']).status !== 0) {
    execFileSync('sh', ['-c', 'mkdir -p /run/munge /etc/munge && (test -f /etc/munge/munge.key || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null) && chown -R munge:munge /etc/munge /run/munge && chmod 400 /etc/munge/munge.key && su -s /bin/sh munge -c /usr/sbin/munged']);
    started.push('munged');
  }
  execFileSync('/usr/sbin/slurmctld', ['-f', conf]);
  execFileSync('/usr/sbin/slurmd', ['-f', conf]);
  started.push('slurmctld', 'slurmd');
  for (let i = 0; i < 100; i++) {
    if (spawnSync('sinfo', ['-h', '-o', '%t']).stdout?.toString().trim() === 'idle') return;
    spawnSync('sleep', ['0.1']);
  }
  throw new Error('slurm: the node did not become idle');
}

beforeAll(() => {
  if (!available) return;
  startSlurm();
  writeBrownJsonl(join(dir, 'brown'));
  f = buildFixtures(join(dir, 'fixtures'));
}, 240_000);
afterAll(() => {
  for (const d of started.reverse()) spawnSync('pkill', ['-x', d]);
  cleanup(dir);
});

const digest = (out: string) =>
  readdirSync(out)
    .filter((n) => n.endsWith('.arrow'))
    .sort()
    .map((n) => `${n} ${createHash('sha256').update(readFileSync(join(out, n))).digest('hex')}`);

describe.skipIf(!available)('refinery slurm on a real single-node Slurm', () => {
  it('a stage as a 4-task array writes exactly what one local run writes', async () => {
    const r = await cliAsync(['slurm', '--array', '4', '--poll', '0.2', '--', 'import', join(dir, 'brown'), '-o', join(dir, 'arr')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/submitted import as job \d+ \(array of 4\)/);
    expect(cli(['import', join(dir, 'brown'), '-o', join(dir, 'local'), '--progress', 'off']).code).toBe(0);
    expect(digest(join(dir, 'arr'))).toEqual(digest(join(dir, 'local')));
    expect(readdirSync(join(dir, 'arr-slurm')).filter((n) => n.endsWith('.log'))).toHaveLength(4);
  }, 120_000);

  // Every operation of several phases, and a whole pipeline file, each as one dependency chain; the chains run side by side.
  it('dedup minhash, mix, select --top, quality --keep-top, dedup lines and a pipeline file as chains of jobs (an array per map or jobs phase, one job per reduce) decide as local runs do', async () => {
    const slug = (name: string) => name.replace(/[^a-z]+/g, '-');
    const runs = await Promise.all(
      PLAN_CASES.map(async (c) => {
        const out = join(dir, `${slug(c.name)}-slurm`);
        const local = join(dir, `${slug(c.name)}-local`);
        const [r, l] = await Promise.all([
          cliAsync(['slurm', '--array', '2', '--poll', '0.3', '--', ...c.args(f, out)]),
          cliAsync([...c.args(f, local), '--progress', 'off', '--workers', '1']),
        ]);
        return { c, out, local, r, l };
      }),
    );
    for (const { c, out, local, r, l } of runs) {
      expect(l.code, `${c.name} locally: ${l.stderr}`).toBe(0);
      expect(r.code, `${c.name} on Slurm: ${r.stderr}`).toBe(0);
      expect(r.stderr.match(/slurm: submitted \S+ as job \d+/g), c.name).toHaveLength(phasesOf(c.args(f, out)).length);
      expect(r.stderr).toMatch(/slurm: complete/);
      expect(await outcome(c, out), c.name).toEqual(await outcome(c, local));
    }
  }, 600_000);
});

describe('refinery slurm --dry-run', () => {
  it('prints the sbatch scripts: an array per map or jobs phase, each reduce alone, every job the same command with --phase', () => {
    const r = cli(['slurm', '--array', '8', '--partition', 'cpu', '--time', '02:00:00', '--mem', '16G', '--cpus-per-task', '4', '--dry-run', '--', 'dedup', 'minhash', 'in/', '-o', 'out/', '--keep', 'longest', '--bands', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/#SBATCH --array=0-7/g)).toHaveLength(3);
    for (const line of ['#SBATCH --partition=cpu', '#SBATCH --time=02:00:00', '#SBATCH --mem=16G', '#SBATCH --cpus-per-task=4']) expect(r.stdout).toContain(line);
    for (const phase of ['signatures', 'buckets', 'cluster', 'filter']) {
      expect(r.stdout).toContain(`dedup minhash in/ -o out/ --keep longest --bands 20 --phase ${phase} --workers 4 --progress log`);
    }
    expect(r.stdout).toMatch(/# --- cluster[^\n]*\n#!\/bin\/bash\n#SBATCH --job-name=refinery-cluster\n#SBATCH --output/);
    // mix, select --top and quality --keep-top are plans like any other: nothing is refused.
    const mix = cli(['slurm', '--array', '2', '--dry-run', '--', 'mix', 'in/', '-o', 'out/']);
    expect(mix.code, mix.stderr).toBe(0);
    expect(mix.stdout.match(/# --- (count|plan|sample|report)/g)).toEqual(['# --- count', '# --- plan', '# --- sample', '# --- report']);
  });
});
