/**
 * `refinery view` in a real browser (Debian's chromium driven by playwright-core) over a small
 * real run built here with the CLI: the sample web through ingest, extract, pii, near-dedup and
 * quality, plus an imported page carrying a script. Checks the funnel against `refinery stats
 * --json`, a reason's list against `inspect --excluded`, each stage's text on a document page,
 * that hostile text stays text, and that nothing outside the folder is served. Writes a
 * screenshot of every page to tests/screenshots/ (linked from the README).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { Doc } from '../pipeline/core/schema.js';
import { cleanup, cli, cliOk, cliPath, readDocs, repoRoot, tempDir } from './helpers/cli.js';

const CHROMIUM = process.env.REFINERY_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, 'tests', 'screenshots');
const HOSTILE = 'Before the script <script>alert(1)</script> and after it. <img src=x onerror=alert(2)>';
const present = existsSync(CHROMIUM);
if (!present && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing (CI=true: .ci/run installs chromium)`);

/** GET a path exactly as written (no client-side normalisation of `..`): status and body. */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function startView(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [cliPath, 'view', ...args, '--port', '0'], { cwd: repoRoot });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /(http:\/\/[^\s/]+\/)/.exec(stdout);
      if (m) resolve({ child, url: m[1], stderr: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`refinery view exited with ${code}: ${stderr}`)));
  });
}

describe.skipIf(!present)(present ? 'refinery view in chromium' : `refinery view in chromium (skipped: no ${CHROMIUM}; apt-get install chromium)`, () => {
  let dir: string;
  let out: string;
  let server: Awaited<ReturnType<typeof startView>>;
  let browser: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    dir = tempDir('refinery-view-');
    out = join(dir, 'out');
    cliOk(['sample-web', '-o', join(dir, 'web'), '--pages', '120', '--seed', '3', '--pages-per-file', '60']);
    writeFileSync(join(dir, 'run.yaml'), [
      'progress: off',
      'stages:',
      `  - {stage: ingest, input: ${join(dir, 'web')}, output: ${join(out, 'raw')}}`,
      `  - {stage: extract, output: ${join(out, 'text')}, min_text_chars: 200}`,
      `  - {stage: pii, output: ${join(out, 'clean')}}`,
      `  - {stage: dedup-minhash, output: ${join(out, 'dedup')}}`,
      `  - {stage: quality, output: ${join(out, 'quality')}}`,
    ].join('\n'));
    cliOk(['run', join(dir, 'run.yaml')]);
    writeFileSync(join(dir, 'hostile.jsonl'), `${JSON.stringify({ id: 'hostile-1', url: 'javascript:alert(3)', text: `${HOSTILE}\n`.repeat(3) })}\n`);
    cliOk(['import', join(dir, 'hostile.jsonl'), '-o', join(out, 'hostile'), '--progress', 'off']);
    cliOk(['mix', join(out, 'quality'), '-o', join(out, 'mix'), '--by', 'lang', '--temperature', '2', '--budget', '100KB', '--max-epochs', '8', '--seed', '1', '--progress', 'off']);
    // A training log in the trainer's format (metrics.jsonl), to be extended while the page is open.
    mkdirSync(join(out, 'train'));
    const metric = (step: number) => `${JSON.stringify({ step, tokens: step * 2048, loss: 8 - step / 10, lr: 0.003 * Math.min(1, step / 10) })}\n`;
    writeFileSync(join(out, 'train', 'metrics.jsonl'), [10, 20, 30].map(metric).join(''));
    (globalThis as { metric?: (s: number) => string }).metric = metric;
    // A link inside the folder that points outside it.
    symlinkSync('/etc', join(out, 'etc-link'));
    server = await startView([out]);
    const { chromium } = await import('playwright-core');
    // A fresh profile in the test's folder (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(join(dir, 'chromium'), {
      executablePath: CHROMIUM,
      viewport: { width: 1024, height: 640 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill();
    if (dir) cleanup(dir);
  });

  const open = async (path: string, shot?: string) => {
    const res = await page.goto(new URL(path, server.url).href);
    expect(res?.status()).toBe(200);
    if (shot) await page.screenshot({ path: join(SHOTS, `view-${shot}.png`) });
  };

  it('the Run page funnel equals refinery stats --json', async () => {
    await open('/', 'run');
    const rows = await page.$$eval('#funnel tr.stage', (trs) => trs.map((tr) => ({
      slug: tr.getAttribute('data-slug') ?? '',
      values: Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map((td) => [td.getAttribute('data-col'), Number(td.querySelector('[data-value]')?.getAttribute('data-value'))])),
    })));
    expect(rows.map((r) => r.slug).sort()).toEqual(['clean', 'dedup', 'hostile', 'mix', 'quality', 'raw', 'text']);
    const stats = JSON.parse(cliOk(['stats', ...rows.map((r) => join(out, r.slug)), '--json']).stdout) as { docs_in: number; docs_kept: number; docs_excluded: number; bytes_in: number; bytes_kept: number; bytes_excluded: number; steps: { name: string; in: number; out: number; dropped: number; bytes_dropped: number }[] }[];
    for (const [i, row] of rows.entries()) {
      const s = stats[i];
      expect(row.values).toEqual({ docs_in: s.docs_in, docs_kept: s.docs_kept, docs_excluded: s.docs_excluded, bytes_in: s.bytes_in, bytes_kept: s.bytes_kept, bytes_excluded: s.bytes_excluded });
      const steps = await page.$$eval(`#funnel tr.step[data-slug="${row.slug}"]`, (trs) => trs.map((tr) => ({
        name: tr.getAttribute('data-step'),
        ...Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map((td) => [td.getAttribute('data-col'), Number(td.querySelector('[data-value]')?.getAttribute('data-value'))])),
      })));
      expect(steps).toEqual(s.steps.map((x) => ({ name: x.name, in: x.in, out: x.out, dropped: x.dropped, bytes_dropped: x.bytes_dropped })));
    }
    // The chart is there, inline.
    expect(await page.locator('svg rect').count()).toBeGreaterThan(3);
  });

  it('filtering the quality stage by a reason lists exactly the ids inspect --excluded lists', async () => {
    const excluded = JSON.parse(cliOk(['inspect', join(out, 'quality'), '--excluded', '--head', '100000', '--json']).stdout) as Doc[];
    expect(excluded.length).toBeGreaterThan(5);
    const byReason = new Map<string, string[]>();
    for (const d of excluded) {
      const key = `${d.excluded_by}|${String(d.reason).split(': ')[0]}`;
      byReason.set(key, [...(byReason.get(key) ?? []), String(d.id)]);
    }
    expect(byReason.size).toBeGreaterThan(1);
    let first = true;
    for (const [key, ids] of byReason) {
      const [step, reason] = key.split('|');
      if (first) {
        // Reached as a user does: the reason's link on the stage page.
        await open('/stage?out=quality');
        await page.click(`#reasons a:text-is("${reason}")`);
        await page.goto(`${page.url()}&n=1000`);
        await page.screenshot({ path: join(SHOTS, 'view-stage.png') });
        first = false;
      } else {
        await open(`/stage?out=quality&part=excluded&n=1000&where=${encodeURIComponent(`excluded_by = ${step}`)}&where=${encodeURIComponent(`reason = ${reason}`)}`);
      }
      const shown = await page.$$eval('#docs tr[data-id]', (trs) => trs.map((tr) => tr.getAttribute('data-id')));
      expect(shown, key).toEqual(ids);
    }
  });

  it('column filters and the search narrow the list', async () => {
    const kept = await readDocs(join(out, 'quality'));
    const en = kept.filter((d) => d.lang === 'en').map((d) => d.id);
    await open(`/stage?out=quality&n=1000&where=${encodeURIComponent('lang = en')}`);
    expect(await page.$$eval('#docs tr[data-id]', (trs) => trs.map((tr) => tr.getAttribute('data-id')))).toEqual(en);
    const word = String(kept[0].text).split(/\s+/).find((w) => w.length > 6) ?? 'the';
    await open(`/stage?out=quality&n=20&q=${encodeURIComponent(word)}`);
    const want = kept.slice(0, 20).filter((d) => String(d.text).toLowerCase().includes(word.toLowerCase()) || String(d.url).toLowerCase().includes(word.toLowerCase())).map((d) => d.id);
    expect(await page.$$eval('#docs tr[data-id]', (trs) => trs.map((tr) => tr.getAttribute('data-id')))).toEqual(want);
    expect(await page.locator('#docs mark').count()).toBeGreaterThan(0);
  });

  it('a document page shows its text at every stage, and its raw HTML as text', async () => {
    // One the mix sampled, so that it was kept all the way.
    const mixed = new Set((await readDocs(join(out, 'mix'))).map((d) => d.id));
    const doc = (await readDocs(join(out, 'quality'))).find((d) => mixed.has(d.id)) as Doc;
    await open(`/doc?id=${encodeURIComponent(String(doc.id))}`, 'document');
    const sections = await page.$$eval('section.stage', (ss) => ss.map((s) => {
      const pre = s.querySelector('pre.text')?.cloneNode(true) as HTMLElement | undefined;
      pre?.querySelectorAll('del').forEach((d) => d.remove());
      return { slug: s.getAttribute('data-slug'), part: s.getAttribute('data-part'), text: pre?.textContent ?? null, html: s.querySelector('pre.html')?.textContent ?? null };
    }));
    expect(sections.map((s) => s.slug)).toEqual(['raw', 'text', 'clean', 'dedup', 'quality', 'mix']);
    for (const s of sections) {
      const [same] = (await readDocs(join(out, s.slug as string, s.part === 'excluded' ? '_excluded' : ''))).filter((d) => d.id === doc.id);
      if (s.slug === 'raw') expect(s.html).toBe(same.html);
      else expect(s.text).toBe(same.text);
    }
    expect(await page.locator('#left').textContent()).toContain('Kept by every stage');
    // Documents whose text a stage rewrote (C4's line cleaning in quality, placeholders in pii):
    // the page marks the change, and its text without what is struck through is the new text.
    const before = new Map((await readDocs(join(out, 'text'))).map((d) => [d.id, d.text]));
    const rewritten = (await readDocs(join(out, 'quality'))).filter((d) => before.get(d.id) !== d.text).slice(0, 3);
    expect(rewritten.length).toBeGreaterThan(0);
    for (const d of rewritten) {
      await open(`/doc?out=quality&id=${encodeURIComponent(String(d.id))}`);
      const shown = await page.$eval('section.stage[data-slug="quality"] pre.text', (pre) => {
        const copy = pre.cloneNode(true) as HTMLElement;
        copy.querySelectorAll('del').forEach((del) => del.remove());
        return copy.textContent;
      });
      expect(shown).toBe(d.text);
      expect(await page.locator('section.stage del, section.stage ins').count()).toBeGreaterThan(0);
    }
    // A document the quality rules excluded says where and why.
    const [gone] = await readDocs(join(out, 'quality', '_excluded'));
    await open(`/doc?id=${encodeURIComponent(String(gone.id))}`);
    expect(await page.locator('#left').textContent()).toContain(`excluded by ${gone.excluded_by}: ${gone.reason}`);
  });

  it('text with a script in it is shown literally and runs nothing', async () => {
    await open('/doc?out=hostile&at=0', 'hostile');
    expect(await page.locator('pre.text').textContent()).toContain('<script>alert(1)</script>');
    expect(await page.locator('pre.text').textContent()).toContain('<img src=x onerror=alert(2)>');
    await open('/stage?out=hostile');
    expect(await page.locator('#docs').textContent()).toContain('<script>alert(1)</script>');
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(await page.locator('main script, main img').count()).toBe(0);
  });

  it('the Clusters page shows near duplicates side by side, the kept one marked', async () => {
    await open('/clusters', 'clusters');
    const cards = await page.$$eval('section[data-slug="dedup"] .cols', (cols) => cols.map((c) => [...c.querySelectorAll('.card')].map((card) => ({ id: card.getAttribute('data-id'), kept: card.getAttribute('data-kept') }))));
    expect(cards.length).toBeGreaterThan(0);
    for (const members of cards) expect(members.filter((m) => m.kept === 'true')).toHaveLength(1);
    // The two largest against `inspect --cluster` (each call reads the output again).
    for (const members of cards.slice(0, 2)) {
      const listed = JSON.parse(cliOk(['inspect', join(out, 'dedup'), '--cluster', String(members.find((m) => m.kept === 'true')?.id), '--json']).stdout) as { doc: Doc; kept: boolean }[];
      expect(members.map((m) => m.id)).toEqual(listed.slice(0, 6).map((m) => m.doc.id));
    }
  });

  it('the mix shows realised against target shares, and the training curves follow metrics.jsonl while it is written', async () => {
    await open('/mix', 'mix');
    const report = (JSON.parse(readFileSync(join(out, 'mix', '_mix.json'), 'utf8')) as { report: { rows: { value: string; target_share: number; share_after: number }[] } }).report;
    const shown = await page.$$eval('section.mix tr[data-value]', (trs) => trs.map((tr) => [tr.getAttribute('data-value'), tr.querySelector('[data-col="target"]')?.textContent, tr.querySelector('[data-col="realised"]')?.textContent]));
    expect(shown).toEqual(report.rows.map((r) => [r.value, `${(100 * r.target_share).toFixed(2)}%`, `${(100 * r.share_after).toFixed(2)}%`]));
    expect(await page.locator('section.run').getAttribute('data-steps')).toBe('3');
    expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(1);
    const metric = (globalThis as { metric?: (s: number) => string }).metric as (s: number) => string;
    appendFileSync(join(out, 'train', 'metrics.jsonl'), metric(40) + metric(50));
    await open('/mix');
    expect(await page.locator('section.run').getAttribute('data-steps')).toBe('5');
    expect(await page.locator('section.run svg').count()).toBe(2);
  });

  it('answers 404 for any path outside the folder', async () => {
    for (const path of ['/files/0/../../../etc/passwd', '/files/0/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/files/0/..%2f..%2f..%2fetc%2fpasswd', '/files/0/etc-link/passwd', '/files/1/x', '/etc/passwd', '/stage?out=..', '/stage?out=%2e%2e%2fetc', '/doc?out=../raw&at=0', '/doc?id=no-such-id']) {
      const r = await rawGet(server.url, path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('root:');
    }
    expect((await rawGet(server.url, '/files/0/quality/_manifest.json')).status).toBe(200);
    // A page elsewhere whose name resolves here (DNS rebinding) gets nothing.
    expect((await rawGet(server.url, '/', { Host: 'attacker.example' })).status).toBe(421);
    const res = await page.goto(new URL('/files/0/%2e%2e/%2e%2e/etc/passwd', server.url).href);
    expect(res?.status()).toBe(404);
  });

  it('warns when listening beyond this machine', async () => {
    const wide = await startView([out, '--host', '0.0.0.0']);
    const exited = new Promise((resolve) => wide.child.once('exit', resolve));
    wide.child.kill();
    await exited;
    expect(wide.stderr()).toContain('warning: listening on 0.0.0.0');
    expect(cli(['view', join(dir, 'no-such-folder')]).stderr).toContain('no such directory');
  });
});
