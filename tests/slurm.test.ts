/**
 * `refinery slurm` on a real single-node Slurm (Debian's slurmctld, slurmd and munge, started
 * here and stopped after): a stage as a 4-task array gives exactly the local run's output, and
 * MinHash dedup as a chain of dependent jobs the local run's decisions. Without Slurm the
 * tests skip, except under CI, where .ci/run installs it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBrownJsonl } from '../datasets/brown.js';
import { cleanup, cli, cliAsync, readDocs, tempDir } from './helpers/cli.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const available = has('sbatch') && has('slurmctld') && has('slurmd') && has('munged');
if (!available && process.env.CI === 'true') throw new Error('Slurm is not installed (CI=true: .ci/run installs slurmctld, slurmd, slurm-client and munge)');

const dir = tempDir();
const started: string[] = [];

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
}, 60_000);
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

  it('MinHash dedup as dependent jobs (signatures, buckets, cluster, filter) decides as the local run does', async () => {
    const r = await cliAsync(['slurm', '--array', '2', '--poll', '0.2', '--', 'dedup', 'minhash', join(dir, 'local'), '-o', join(dir, 'dedup'), '--memory', '64m']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/submitted (signatures|buckets|cluster|filter) as job/g)).toHaveLength(4);
    expect(cli(['dedup', 'minhash', join(dir, 'local'), '-o', join(dir, 'dedup-local'), '--memory', '64m', '--progress', 'off']).code).toBe(0);
    const ids = async (p: string) => (existsSync(p) ? (await readDocs(p)).map((d) => `${d.id} ${String(d.dedup_cluster)}`).sort() : []);
    expect(await ids(join(dir, 'dedup'))).toEqual(await ids(join(dir, 'dedup-local')));
    expect(await ids(join(dir, 'dedup', 'excluded'))).toEqual(await ids(join(dir, 'dedup-local', 'excluded')));
  }, 180_000);
});

describe('refinery slurm --dry-run', () => {
  it('prints the sbatch scripts: an array per split step, the reduce step alone', () => {
    const r = cli(['slurm', '--array', '8', '--partition', 'cpu', '--time', '02:00:00', '--mem', '16G', '--cpus-per-task', '4', '--dry-run', '--', 'dedup', 'minhash', 'in/', '-o', 'out/', '--keep', 'longest', '--bands', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/#SBATCH --array=0-7/g)).toHaveLength(3);
    for (const line of ['#SBATCH --partition=cpu', '#SBATCH --time=02:00:00', '#SBATCH --mem=16G', '#SBATCH --cpus-per-task=4']) expect(r.stdout).toContain(line);
    expect(r.stdout).toMatch(/dedup signatures in\/ --work out-work --bands 20 --mode minhash --workers 4/);
    expect(r.stdout).toMatch(/dedup cluster --work out-work --keep longest\n/);
    expect(cli(['slurm', '--array', '2', '--dry-run', '--', 'mix', 'in/', '-o', 'out/']).code).toBe(2);
  });
});
