/**
 * A 127.0.0.1 stand-in for Common Crawl: data.commoncrawl.org's layout (a crawl's
 * warc.paths.gz, then the files with HTTP Range support) and a CDX index server.
 * In flaky mode it drops connections mid-body, answers 503, and drips bodies slowly,
 * following a seeded sequence, so tests are repeatable.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface CcCapture {
  url: string;
  filename: string;
  offset: number;
  length: number;
  status: number;
  mime: string;
}

export interface CcServerOptions {
  crawl: string;
  /** Served files: path under the server root -> local file. */
  files: { path: string; file: string }[];
  /** Which of the files the warc.paths.gz / wet.paths.gz listings name. */
  warcPaths?: string[];
  wetPaths?: string[];
  captures?: CcCapture[];
  /** Captures per index page. */
  pageSize?: number;
  flaky?: { seed: number; drop: number; error: number; slow: number };
}

export interface CcServer {
  url: string;
  stats: { requests: number; ranged: number; dropped: number; errors: number; slow: number };
  close(): Promise<void>;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 1 | s) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** "example.com/*" matches by prefix, "*.example.com" by domain, anything else exactly. */
function matches(pattern: string, url: string): boolean {
  const u = new URL(url);
  const target = `${u.host}${u.pathname}${u.search}`;
  if (pattern.startsWith('*.')) return u.host === pattern.slice(2) || u.host.endsWith(`.${pattern.slice(2)}`);
  if (pattern.endsWith('*')) return target.startsWith(pattern.slice(0, -1).replace(/^https?:\/\//, ''));
  return target === pattern.replace(/^https?:\/\//, '');
}

export async function startCcServer(o: CcServerOptions): Promise<CcServer> {
  const stats = { requests: 0, ranged: 0, dropped: 0, errors: 0, slow: 0 };
  const next = rng(o.flaky?.seed ?? 1);
  const failures = new Map<string, number>(); // consecutive failures per request target, capped
  const files = new Map(o.files.map((f) => [`/${f.path.replace(/^\/+/, '')}`, f.file]));
  const listing = (paths: string[]) => gzipSync(`${paths.join('\n')}\n`);

  const serveFile = (req: IncomingMessage, res: ServerResponse, file: string) => {
    const size = statSync(file).size;
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      stats.ranged++;
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' });
    } else res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });

    const key = `${req.url} ${req.headers.range ?? ''}`;
    const fails = failures.get(key) ?? 0;
    const roll = o.flaky && fails < 3 ? next() : 1;
    const stream = createReadStream(file, { start, end, highWaterMark: 16 << 10 });
    if (roll < (o.flaky?.drop ?? 0) && end - start > 2048) {
      // Drop the connection part-way through the body.
      stats.dropped++;
      failures.set(key, fails + 1);
      const cut = start + Math.floor((end - start) * next());
      let sent = start;
      stream.on('data', (data: string | Buffer) => {
        const chunk = data as Buffer;
        if (sent + chunk.length > cut) {
          res.write(chunk.subarray(0, cut - sent));
          stream.destroy();
          res.socket?.destroy();
        } else res.write(chunk);
        sent += chunk.length;
      });
      return;
    }
    failures.delete(key);
    if (roll < (o.flaky?.drop ?? 0) + (o.flaky?.slow ?? 0)) {
      // Drip the body in small pieces.
      stats.slow++;
      stream.on('data', (data: string | Buffer) => {
        const chunk = data as Buffer;
        stream.pause();
        res.write(chunk, () => setTimeout(() => stream.resume(), 2));
      });
      stream.on('end', () => res.end());
      return;
    }
    stream.pipe(res);
  };

  const server = createServer((req, res) => {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (o.flaky && url.pathname !== '/cc-index') {
      const key = `503 ${req.url} ${req.headers.range ?? ''}`;
      const fails = failures.get(key) ?? 0;
      if (fails < 2 && next() < o.flaky.error) {
        stats.errors++;
        failures.set(key, fails + 1);
        res.writeHead(503, { 'retry-after': '0' }).end('busy');
        return;
      }
      failures.delete(key);
    }
    const file = files.get(url.pathname);
    if (file) return serveFile(req, res, file);
    if (url.pathname === `/crawl-data/${o.crawl}/warc.paths.gz`) return res.end(listing(o.warcPaths ?? []));
    if (url.pathname === `/crawl-data/${o.crawl}/wet.paths.gz`) return res.end(listing(o.wetPaths ?? []));
    if (url.pathname === '/cc-index') {
      const pattern = url.searchParams.get('url') ?? '';
      const found = (o.captures ?? []).filter((c) => matches(pattern, c.url));
      const pageSize = o.pageSize ?? 50;
      if (url.searchParams.get('showNumPages') === 'true') return res.end(JSON.stringify({ pages: Math.ceil(found.length / pageSize), pageSize, blocks: 1 }));
      const page = Number(url.searchParams.get('page') ?? 0);
      const lines = found.slice(page * pageSize, (page + 1) * pageSize).map((c) => JSON.stringify({ ...c, status: String(c.status), offset: String(c.offset), length: String(c.length) }));
      res.writeHead(lines.length ? 200 : 404, { 'content-type': 'text/x-ndjson' });
      return res.end(lines.join('\n'));
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const readLines = (file: string) => readFileSync(file, 'utf8').trim().split('\n');
