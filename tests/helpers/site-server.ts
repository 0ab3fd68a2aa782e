/**
 * Small local web sites for crawler tests (each port is a host), with the traps a crawler
 * meets: robots.txt rules, a redirect loop, a huge body, a slow drip, a gzip bomb, an image,
 * and links deeper than the depth limit. Every request is logged with its time.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';

export interface Hit {
  host: string;
  path: string;
  at: number;
}

export interface Site {
  host: string;
  url: string;
  close(): Promise<void>;
}

const page = (title: string, links: string[], body = '') =>
  `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>${body || `This is the ${title} page of a small test site.`}</p><ul>${links.map((l) => `<li><a href="${l}">${l}</a></li>`).join('')}</ul></body></html>`;

export type Routes = Record<string, (res: ServerResponse, site: Site) => void>;

const html = (body: string) => (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);

export async function startSite(routes: (site: Site) => Routes, log: Hit[]): Promise<Site> {
  let site: Site;
  let table: Routes = {};
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    log.push({ host: site.host, path, at: performance.now() });
    const route = table[path];
    if (route) route(res, site);
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>not found</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  site = {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  table = routes(site);
  return site;
}

/** The main test site: every trap, linked from its home page. */
export const trapSite = (other: () => string) => (): Routes => ({
  '/robots.txt': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nDisallow: /private/\n'),
  '/': html(page('Home', ['/a', '/b', '/private/secret', '/loop', '/huge', '/slow', '/bomb', '/image.png', '/gzipped', '/redirect', `${other()}/`])),
  '/a': html(page('A', ['/a/1', '/a/2', '/#fragment-only'])),
  '/b': html(page('B', ['/', 'mailto:someone@example.org', 'javascript:void(0)'])),
  '/a/1': html(page('A1', ['/deep'])),
  '/a/2': html(page('A2', ['/deep'])),
  '/deep': html(page('Deep', ['/deeper'])),
  '/deeper': html(page('Deeper', [])),
  '/private/secret': html(page('Secret', [])),
  '/redirect': (res) => res.writeHead(301, { location: '/a' }).end(),
  '/loop': (res) => res.writeHead(302, { location: '/loop2' }).end(),
  '/loop2': (res) => res.writeHead(302, { location: '/loop' }).end(),
  '/huge': (res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    const chunk = Buffer.alloc(1 << 20, 'x');
    let sent = 0;
    const push = () => {
      while (sent < 64 && res.write(chunk)) sent++;
      if (sent >= 64) res.end();
      else res.once('drain', push);
    };
    res.on('close', () => (sent = 64));
    push();
  },
  '/slow': (res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    const timer = setInterval(() => res.write('.'), 100);
    res.on('close', () => clearInterval(timer));
  },
  '/bomb': (res) => res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end(BOMB),
  '/gzipped': (res) => res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end(gzipSync(page('Gzipped', ['/a'], 'A page sent gzip-encoded.'))),
  '/image.png': (res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(100)),
});

// 256 MiB of zeros behind ~250 KB of gzip.
const BOMB = gzipSync(Buffer.alloc(256 << 20), { level: 9 });

/** A host whose robots.txt shuts out refinery's crawler. */
export const closedSite = (): Routes => ({
  '/robots.txt': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: refinery-crawler\nDisallow: /\n\nUser-agent: *\nAllow: /\n'),
  '/': html(page('Closed', ['/inside'])),
  '/inside': html(page('Inside', [])),
});

/** A host with many pages, to measure the per-host delay. */
export const wideSite = (): Routes => {
  const routes: Routes = { '/': html(page('Wide', Array.from({ length: 8 }, (_, i) => `/p/${i}`))) };
  for (let i = 0; i < 8; i++) routes[`/p/${i}`] = html(page(`P${i}`, []));
  return routes;
};
