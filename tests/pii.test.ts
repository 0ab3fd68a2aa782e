/** The pii stage through the CLI: replacement, counts, actions, unsafe content; nothing original kept. */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageTruth } from '../datasets/sample-web/index.js';
import { readTaskStats } from '../pipeline/core/stats.js';
import { cleanup, cli, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
const text = join(dir, 'text');
let pages: Map<string, PageTruth>;
afterAll(() => cleanup(dir));

beforeAll(() => {
  const web = join(dir, 'web');
  expect(cli(['sample-web', '-o', web, '--pages', '600', '--pages-per-file', '300', '--seed', '9']).code).toBe(0);
  expect(cli(['ingest', web, '-o', join(dir, 'raw')]).code).toBe(0);
  expect(cli(['extract', join(dir, 'raw'), '-o', text]).code).toBe(0);
  pages = new Map(
    readFileSync(join(web, 'pages.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PageTruth)
      .map((p) => [p.record_id, p]),
  );
}, 120_000);

const TYPE: Record<string, string> = { email: 'email', phone: 'phone', ipv4: 'ip', ipv6: 'ip', credit_card: 'card', iban: 'iban', us_ssn: 'ssn', aws_access_key: 'secret', github_token: 'secret', jwt: 'secret', private_key: 'secret' };

describe('refinery pii', () => {
  it('replaces every planted value with a typed placeholder and counts it', async () => {
    const out = join(dir, 'clean');
    const r = cli(['pii', text, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    await expectAccounting(out);
    const docs = await readDocs(out);
    let planted = 0;
    for (const doc of docs) {
      const page = pages.get(doc.id) as PageTruth;
      const expected: Record<string, number> = {};
      for (const x of page.pii) {
        planted++;
        expect(doc.text as string, `${x.type} ${page.url}`).not.toContain(x.value);
        expected[TYPE[x.type]] = (expected[TYPE[x.type]] ?? 0) + 1;
      }
      for (const [type, n] of Object.entries(expected)) expect(doc[`pii_${type}_count`], `${type} ${page.url}`).toBeGreaterThanOrEqual(n);
      if (page.pii.some((x) => x.type === 'email')) expect(doc.text).toContain('[EMAIL]');
    }
    expect(planted).toBeGreaterThan(40);
    // Nothing in the output, kept or excluded, holds an original value.
    const all = [...docs, ...(await readDocs(join(out, '_excluded')).catch(() => []))];
    const values = [...pages.values()].flatMap((p) => p.pii.map((x) => x.value));
    for (const doc of all) for (const v of values) expect(`${doc.text} ${doc.title} ${doc.reason ?? ''}`).not.toContain(v);
  }, 60_000);

  it('masks, hashes and excludes per type, and never writes the values it excludes for', async () => {
    const out = join(dir, 'actions');
    const r = cli(['pii', text, '-o', out, '--email', 'mask', '--card', 'hash', '--hash-salt', 'test-salt', '--ssn', 'exclude', '--no-unsafe-words']);
    expect(r.code, r.stderr).toBe(0);
    const totals = await expectAccounting(out);
    const kept = await readDocs(out);
    const excluded = await readDocs(join(out, '_excluded'));
    const withSsn = [...pages.values()].filter((p) => p.pii.some((x) => x.type === 'us_ssn') && kept.concat(excluded).some((d) => d.id === p.record_id));
    expect(totals.steps.find((s) => s.name === 'pii')?.reasons.pii).toBe(withSsn.length);
    for (const doc of excluded.filter((d) => d.excluded_by === 'pii')) {
      expect(doc.reason).toMatch(/^pii: ssn \d+$/);
      expect(doc.text).toContain('[SSN]');
    }
    let checked = 0;
    for (const doc of kept) {
      for (const x of (pages.get(doc.id) as PageTruth).pii) {
        if (x.type === 'email') {
          expect(doc.text).toContain(x.value.replace(/[^\s\-.()/:@]/g, '*'));
          checked++;
        }
        if (x.type === 'credit_card') {
          // A salted pseudonym: the same card gets the same one everywhere, and it cannot be read back.
          const digest = createHash('sha256').update('test-salt').update(x.value).digest('hex').slice(0, 12);
          expect(doc.text).toContain(`[CARD:${digest}]`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  }, 60_000);

  it('excludes unsafe documents by word share and by URL, and keeps a page with one flagged word', async () => {
    const input = join(dir, 'unsafe.jsonl');
    const ordinary = 'The committee met on Tuesday to discuss the budget for the new library and the repairs to the old bridge. '.repeat(8);
    writeFileSync(
      input,
      [
        { id: 'clean', url: 'https://news.example/budget', text: ordinary },
        { id: 'one-word', url: 'https://docs.example/regex', text: `${ordinary} Replace the placeholder xxx with your key.` },
        { id: 'dense', url: 'https://forum.example/t/1', text: `${'fuck this shit, you asshole bitch. '.repeat(6)}${ordinary}` },
        { id: 'bad-url', url: 'https://www.example.com/free-porn-videos', text: ordinary },
        { id: 'blocked-domain', url: 'https://sub.blocked.example/page', text: ordinary },
        { id: 'private-ip', url: 'https://ops.example/log', text: `${ordinary} The router at 192.168.1.1 and the host 8.8.8.8 answered.` },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const shards = join(dir, 'unsafe-in');
    expect(cli(['import', input, '-o', shards]).code).toBe(0);
    const domains = join(dir, 'blocked.txt');
    writeFileSync(domains, 'blocked.example\n');
    const out = join(dir, 'unsafe-out');
    const r = cli(['pii', shards, '-o', out, '--url-blocklist-domains', domains]);
    expect(r.code, r.stderr).toBe(0);
    await expectAccounting(out);
    const kept = new Map((await readDocs(out)).map((d) => [d.id, d]));
    const excluded = new Map((await readDocs(join(out, '_excluded'))).map((d) => [d.id, d]));
    expect([...kept.keys()].sort()).toEqual(['clean', 'one-word', 'private-ip']);
    expect(excluded.get('dense')?.reason).toMatch(/^unsafe-words: \d+ of \d+ words flagged/);
    expect(excluded.get('bad-url')?.reason).toBe('unsafe-url: URL word "porn"');
    expect(excluded.get('blocked-domain')?.reason).toBe('unsafe-url: domain blocked.example');
    expect(kept.get('private-ip')?.text).toContain('192.168.1.1');
    expect(kept.get('private-ip')?.text).toContain('host [IP] answered');
    expect(kept.get('private-ip')?.pii_ip_count).toBe(1);
    expect(readTaskStats(out)[0].steps.map((s) => s.name)).toEqual(['read', 'unsafe-url', 'unsafe-words', 'pii']);
  });
});
