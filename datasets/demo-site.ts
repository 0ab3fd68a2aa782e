/**
 * A local web site for the demo's crawl step: serves the HTML pages of a sample-web WARC
 * at http://127.0.0.1:<port>/<host>/<path>, with an index page linking to them. Links
 * inside the pages point to paths the site does not have (404s, as on the real web).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readArchive } from '../pipeline/warc/archive.js';
import { ByteReader } from '../pipeline/warc/byte-reader.js';
import { parseHttpHead } from '../pipeline/warc/http.js';

export interface DemoSite {
  url: string;
  pages: number;
  close(): Promise<void>;
}

export async function serveWarcPages(warcFile: string, limit: number): Promise<DemoSite> {
  const pages = new Map<string, { contentType: string; body: Buffer }>();
  const records = readArchive(ByteReader.fromFile(warcFile), { want: (t) => t === 'response', maxContent: 16 << 20, maxMember: 64 << 20, onDamage: () => {} });
  for await (const rec of records) {
    if (pages.size >= limit || !rec.content) continue;
    const head = parseHttpHead(rec.content);
    const target = new URL(rec.headers.get('warc-target-uri') ?? 'http://x/');
    if (!head.ok || head.head.status !== 200 || !/text\/html/.test(head.head.headers.get('content-type') ?? '')) continue;
    if (head.head.headers.has('content-encoding') || head.head.headers.has('transfer-encoding')) continue;
    pages.set(`/${target.host}${target.pathname}`, { contentType: head.head.headers.get('content-type') as string, body: Buffer.from(head.head.raw) });
  }
  const index = `<!DOCTYPE html><html><head><title>Demo site</title></head><body><h1>Pages</h1><ul>${[...pages.keys()].map((p) => `<li><a href="${p}">${p}</a></li>`).join('')}</ul></body></html>`;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(index);
    if (path === '/robots.txt') return res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nDisallow: /private/\n');
    const page = pages.get(path);
    if (!page) return res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
    res.writeHead(200, { 'content-type': page.contentType }).end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pages: pages.size,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
