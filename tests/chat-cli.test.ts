/**
 * Post-training through the real CLI on the bundled data: a small model pretrained on the
 * Brown and UDHR text (in process, a few steps: the format is what is tested, not quality),
 * `tokenizer add-special`, `sample-chat`, `sft` on a part of its data (`--max-examples`; and its
 * resume onto the same curve), `dpo` (reference log-probabilities stored once and read back on
 * resume; held-out preference before and after in preference.json), the demo report's
 * post-training section from those runs' files, and `chat`: one
 * `--prompt` answer, and an interactive session driven through a pseudo-terminal (python3's
 * pty module) typing a question, reading the answer and leaving with /exit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pretrainForChat } from '../datasets/chat-pretrain.js';
import { postTraining, writeChatAnswer } from '../datasets/demo-report.js';
import { cleanup, cli, cliOk, cliPath, tempDir } from './helpers/cli.js';
import { pythonMissing } from './helpers/python.js';

const dir = tempDir('refinery-chat-');
afterAll(() => cleanup(dir));
let checkpoint = '';
let tokenizer = '';
const chatTok = join(dir, 'chat-tokenizer.json');
const data = join(dir, 'chat');
/** The pseudo-terminal is python3's pty module (no native dependency for node). */
const noPty = pythonMissing(['pty']);

beforeAll(async () => {
  const r = await pretrainForChat(join(dir, 'pre'), { vocab: 512, context: 128, d_model: 32, layers: 1, heads: 2, batch_size: 8, steps: 20, lr: 3e-3 });
  ({ checkpoint, tokenizer } = r);
}, 120_000);

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n');
const metrics = (out: string) => lines(join(out, 'metrics.jsonl')).map((l) => JSON.parse(l) as Record<string, number>);

describe('refinery post-training', () => {
  it('add-special and sample-chat write the chat tokenizer and the bundled data', () => {
    const r = cliOk(['tokenizer', 'add-special', '<|user|>', '<|assistant|>', '<|end|>', '--tokenizer', tokenizer, '--output', chatTok]);
    expect(r.stdout).toContain('<|user|> = 512, <|assistant|> = 513, <|end|> = 514; 515 tokens');
    const again = cliOk(['tokenizer', 'add-special', '<|end|>', '--tokenizer', chatTok, '--output', join(dir, 'again.json')]);
    expect(again.stdout).toContain('nothing added (already there: <|end|> = 514)');
    expect(readFileSync(join(dir, 'again.json'), 'utf8')).toBe(readFileSync(chatTok, 'utf8'));

    const s = cliOk(['sample-chat', '-o', data]);
    expect(s.stdout).toMatch(/sft-train\.jsonl \d+, sft-heldout\.jsonl \d+, pairs-train\.jsonl \d+, pairs-heldout\.jsonl \d+/);
    const first = JSON.parse(lines(join(data, 'sft-train.jsonl'))[0]) as { task: string; messages: { role: string; content: string }[] };
    expect(first.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    const pair = JSON.parse(lines(join(data, 'pairs-heldout.jsonl'))[0]) as { chosen: string; rejected: string };
    expect(pair.chosen).not.toBe(pair.rejected);
    // The same seed, the same files.
    cliOk(['sample-chat', '-o', join(dir, 'chat2')]);
    expect(readFileSync(join(dir, 'chat2', 'pairs-train.jsonl'), 'utf8')).toBe(readFileSync(join(data, 'pairs-train.jsonl'), 'utf8'));
  }, 120_000);

  it('sft refuses a tokenizer without the chat tokens, then fine-tunes and resumes onto the same curve', () => {
    // A part of the bundled data (the test trains for a few steps only): 200 and 24 conversations spread through the files.
    const train = join(data, 'sft-train.jsonl');
    const val = join(data, 'sft-heldout.jsonl');
    const bad = cli(['sft', '--from', checkpoint, '--data', train, '--out', join(dir, 'bad')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('refinery tokenizer add-special');
    const args = ['sft', '--from', checkpoint, '--tokenizer', chatTok, '--data', train, '--val-data', val, '--max-examples', '200', '--max-val-examples', '24', '--steps', '12', '--batch-size', '8', '--eval-every', '6', '--log-every', '1', '--answers', '8', '--peak-flops', '1e9'];
    const whole = cliOk([...args, '--out', join(dir, 'sft')]);
    expect(whole.stdout).toMatch(/sft: 12 steps on 200 conversations .* 8 held-out answers: [\d.]+% end with <\|end\|>/);
    expect(whole.stderr).toContain('24 held-out conversations');
    // The held-out answers' score, beside metrics.jsonl, as the log gave it.
    const answers = JSON.parse(readFileSync(join(dir, 'sft', 'answers.json'), 'utf8')) as { prompts: number; ended: number; each: unknown[] };
    expect(answers.prompts).toBe(8);
    expect(answers.each).toHaveLength(8);
    expect(whole.stdout).toContain(`${(100 * answers.ended).toFixed(1)}% end with <|end|>`);
    cliOk([...args, '--out', join(dir, 'sft-parts'), '--stop-after', '5']);
    cliOk([...args, '--out', join(dir, 'sft-parts')]);
    const m = metrics(join(dir, 'sft'));
    expect(m.map((l) => l.loss)).toEqual(metrics(join(dir, 'sft-parts')).map((l) => l.loss));
    expect(m.filter((l) => l.val_loss !== undefined)).toHaveLength(2);
    const state = JSON.parse(readFileSync(join(dir, 'sft', 'checkpoint', 'state.json'), 'utf8')) as { model: { vocab_size: number }; tokenizer: string };
    expect(state.model.vocab_size).toBe(515);
    expect(state.tokenizer).toBe(chatTok);
  }, 120_000);

  it('dpo stores the reference log-probabilities once and reports preference accuracy', () => {
    const train = join(data, 'pairs-train.jsonl');
    const val = join(data, 'pairs-heldout.jsonl');
    const args = ['dpo', '--from', join(dir, 'sft', 'checkpoint'), '--data', train, '--val-data', val, '--max-examples', '64', '--max-val-examples', '16', '--steps', '6', '--batch-size', '4', '--eval-every', '3', '--log-every', '1', '--peak-flops', '1e9', '--out', join(dir, 'dpo')];
    const first = cliOk([...args, '--stop-after', '3']);
    expect(first.stderr).toMatch(/dpo: reference log-probabilities of 160 answers computed once/);
    expect(existsSync(join(dir, 'dpo', 'reference.json'))).toBe(true);
    const rest = cliOk(args);
    expect(rest.stderr).toContain('dpo: reference log-probabilities from');
    expect(rest.stdout).toMatch(/dpo: 6 steps on 64 pairs .* held-out preference accuracy [\d.]+% -> [\d.]+%, reward margin -?[\d.]+, reward accuracy [\d.]+%/);
    const evals = metrics(join(dir, 'dpo')).filter((l) => l.val_pref_acc !== undefined);
    expect(evals.map((l) => l.step)).toEqual([3, 6]);
    for (const l of evals) expect(l.val_reward_acc).toBeGreaterThanOrEqual(0);
    // Before the first step and after the last, beside metrics.jsonl: the last eval's numbers.
    const pref = JSON.parse(readFileSync(join(dir, 'dpo', 'preference.json'), 'utf8')) as { pairs: number; before: { pref_acc: number }; after: { pref_acc: number; margin: number } };
    expect(pref.pairs).toBe(16);
    expect(pref.after.pref_acc).toBeCloseTo(evals[1].val_pref_acc, 4);
    expect(pref.after.margin).toBeCloseTo(evals[1].val_margin, 4);
    expect(rest.stdout).toContain(`held-out preference accuracy ${(100 * pref.before.pref_acc).toFixed(1)}% -> ${(100 * pref.after.pref_acc).toFixed(1)}%`);
  }, 120_000);

  it('dpo --ref-sync-steps makes the policy the reference every N steps, and resumes between syncs onto the same curve', () => {
    const common = ['dpo', '--from', join(dir, 'sft', 'checkpoint'), '--data', join(data, 'pairs-train.jsonl'), '--max-examples', '32', '--steps', '6', '--batch-size', '4', '--lr', '3e-3', '--warmup', '0', '--log-every', '1', '--peak-flops', '1e9'];
    const args = [...common, '--ref-sync-steps', '2'];
    const whole = cliOk([...args, '--out', join(dir, 'dpo-sync')]);
    expect(whole.stderr).toMatch(/dpo: step 2: the reference is now the policy/);
    expect(whole.stderr).toMatch(/dpo: step 4: the reference is now the policy/);
    // Where the policy is the reference (step 1, and the first step after each sync) every margin is 0: the loss is log 2 exactly.
    const losses = metrics(join(dir, 'dpo-sync')).map((l) => l.loss);
    expect(losses).toHaveLength(6);
    for (const k of [0, 2, 4]) expect(losses[k]).toBeCloseTo(Math.log(2), 4);
    // Without syncs the policy has moved away from the SFT model by step 3: its loss is no longer log 2.
    cliOk([...common, '--out', join(dir, 'dpo-nosync')]);
    expect(Math.abs(metrics(join(dir, 'dpo-nosync'))[2].loss - Math.log(2))).toBeGreaterThan(1e-2);
    // Stopped at step 3 (after the sync at 2), resumed: the sync is read back, and the curve is the uninterrupted one.
    cliOk([...args, '--out', join(dir, 'dpo-sync-parts'), '--stop-after', '3']);
    const rest = cliOk([...args, '--out', join(dir, 'dpo-sync-parts')]);
    expect(rest.stderr).toContain('dpo: the reference synced at step 2 from');
    expect(metrics(join(dir, 'dpo-sync-parts')).map((l) => l.loss)).toEqual(losses);
    // A sync that cannot be read back (its policy is gone) is an error, not a silent restart from another reference.
    cliOk([...args, '--out', join(dir, 'dpo-sync-lost'), '--stop-after', '3']);
    rmSync(join(dir, 'dpo-sync-lost', 'reference-step-2.json'));
    const lost = cli([...args, '--out', join(dir, 'dpo-sync-lost')]);
    expect(lost.code).toBe(2);
    expect(lost.stderr).toContain('needs the reference synced at step 2');
  }, 120_000);

  it('the demo report\'s post-training section reads these runs\' files and chat\'s answer', () => {
    const question = 'Which genre is this passage?\nThe jury said it did find that many of the laws are outmoded.';
    const answer = cliOk(['chat', '--checkpoint', join(dir, 'dpo', 'checkpoint'), '--prompt', question, '--temperature', '0', '--max-tokens', '12']).stdout;
    writeChatAnswer(dir, { question, expected: 'news', answer });
    const section = postTraining(dir).join('\n');
    const sft = metrics(join(dir, 'sft'));
    const dpo = metrics(join(dir, 'dpo'));
    const answers = JSON.parse(readFileSync(join(dir, 'sft', 'answers.json'), 'utf8')) as { prompts: number; ended: number };
    const pref = JSON.parse(readFileSync(join(dir, 'dpo', 'preference.json'), 'utf8')) as { pairs: number; before: { pref_acc: number }; after: { pref_acc: number; margin: number } };
    expect(section).toContain('## Post-training');
    expect(section).toContain(`| SFT held-out loss on the assistant's tokens | ${sft.filter((l) => l.val_loss !== undefined).at(-1)?.val_loss.toFixed(4)} |`);
    expect(section).toContain(`| SFT | ${sft[sft.length - 1].step} steps; training loss on the assistant's tokens ${sft[0].loss.toFixed(4)} (step 1) → `);
    expect(section).toContain(`${(100 * answers.ended).toFixed(1)}% of ${answers.prompts}`);
    expect(section).toContain(`${pref.pairs} pairs | ${(100 * pref.before.pref_acc).toFixed(1)}% (SFT model) → ${(100 * pref.after.pref_acc).toFixed(1)}% (after DPO)`);
    expect(section).toContain(`| ${pref.after.margin.toFixed(3)}, `);
    expect(section).toContain(`| DPO | ${dpo[dpo.length - 1].step} steps; loss ${dpo[0].loss.toFixed(4)} (step 1) → ${dpo[dpo.length - 1].loss.toFixed(4)} (step 6) |`);
    expect(section).toContain('ending with `<\\|end\\|>`'); // escaped: a bare | would end the table cell
    expect(section).toContain(`you> ${question}\nmodel> ${answer.trim()}\n`);
    // A run without post-training (an older demo folder) gets no section rather than a half-filled one.
    expect(postTraining(join(dir, 'sft'))).toEqual([]);
  }, 120_000);

  it.skipIf(noPty)(`chat answers one --prompt, and the same question typed in a terminal, then /exit${noPty ? ` (skipped: ${noPty})` : ''}`, () => {
    const ck = join(dir, 'dpo', 'checkpoint');
    const question = 'Translate into Portuguese: All human beings are born free and equal in dignity and rights.';
    const one = cliOk(['chat', '--checkpoint', ck, '--prompt', question, '--temperature', '0', '--max-tokens', '20']);
    const answer = one.stdout.trim();
    // Through a pseudo-terminal: the prompt appears, the question is typed, the answer read, /exit leaves with status 0.
    const script = `
import os, pty, re, select, sys, time, json
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf = b''
def read_more(deadline):
    """Append what the terminal shows next to buf; False at its end."""
    global buf
    ready, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
    if not ready:
        sys.exit('timed out in %r' % buf)
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return False
    buf += chunk
    return bool(chunk)
def until(pattern, after=0):
    deadline = time.time() + 90
    while buf.count(pattern) <= after and read_more(deadline):
        pass
until(b'you> ')
os.write(fd, sys.stdin.readline().encode())
until(b'you> ', 1)
os.write(fd, b'/exit\\n')
deadline = time.time() + 90
while read_more(deadline):
    pass
_, status = os.waitpid(pid, 0)
print(json.dumps({'status': os.waitstatus_to_exitcode(status), 'transcript': buf.decode('utf8', 'replace')}))
`;
    const r = spawnSync('python3', ['-c', script, process.execPath, cliPath, 'chat', '--checkpoint', ck, '--temperature', '0', '--max-tokens', '20'], { input: `${question}\n`, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { status, transcript } = JSON.parse(r.stdout) as { status: number; transcript: string };
    expect(status).toBe(0);
    const text = transcript.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
    expect(text).toContain('/exit leaves');
    expect(text).toContain(question);
    expect(text).toContain(`model> ${answer}\n`);
  }, 120_000);
});
