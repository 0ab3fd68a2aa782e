/**
 * The viewer's HTTP server (Node's own http): one route per page, and /files/ for files of
 * the given folders as plain downloads. Every response forbids scripts (Content-Security-Policy),
 * so even a page of the web that slipped past escaping could not run; a path that leaves the
 * folders (`..`, encoded or not, or a link pointing out) is answered 404.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UserError, errorMessage } from '../core/errors.js';
import { html, page } from './html.js';
import { fileInside, type ViewSite } from './outputs.js';
import { clustersPage } from './pages/clusters.js';
import { docAt, documentPage, findIn, type Found } from './pages/document.js';
import { mixPage } from './pages/mix.js';
import { runPage } from './pages/run.js';
import { stagePage } from './pages/stage.js';

const HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};
const MAX_PAGE_SIZE = 1000;

class NotFound extends Error {}

function send(res: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8'): void {
  res.writeHead(status, { ...HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const int = (v: string | null, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
  const n = v === null || v === '' ? fallback : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`"${v}" is not a position or count`);
  return Math.min(n, max);
};

async function documentOf(site: ViewSite, q: URLSearchParams): Promise<Found> {
  const slug = q.get('out');
  const out = slug === null ? null : site.bySlug.get(slug);
  if (slug !== null && !out) throw new NotFound();
  const id = q.get('id');
  if (id !== null) {
    for (const o of out ? [out] : site.outputs) {
      const hit = await findIn(o, id);
      if (hit) return hit;
    }
    throw new NotFound();
  }
  if (!out) throw new NotFound();
  const part = q.get('part') === 'excluded' ? 'excluded' : 'kept';
  const hit = await docAt(out, part, int(q.get('at'), 0));
  if (!hit) throw new NotFound();
  return hit;
}

async function route(site: ViewSite, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://viewer.invalid');
  const q = url.searchParams;
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', 'text/plain');
  switch (url.pathname) {
    case '/':
      return send(res, 200, runPage(site));
    case '/stage': {
      const out = site.bySlug.get(q.get('out') ?? '');
      if (!out) throw new NotFound();
      const where = q.getAll('where').flatMap((w) => w.split('\n')).map((w) => w.trim()).filter(Boolean);
      const body = await stagePage(out, {
        part: q.get('part') === 'excluded' ? 'excluded' : 'kept',
        where,
        q: q.get('q') ?? '',
        at: int(q.get('at'), 0),
        n: Math.max(1, int(q.get('n'), 50, MAX_PAGE_SIZE)),
      });
      return send(res, 200, body);
    }
    case '/doc':
      return send(res, 200, await documentPage(site, await documentOf(site, q)));
    case '/clusters':
      return send(res, 200, await clustersPage(site));
    case '/mix':
      return send(res, 200, mixPage(site));
  }
  // /files/<root number>/<path>: a file of a given folder, as a download that is never rendered.
  const m = /^\/files\/(\d+)\/(.+)$/.exec(url.pathname);
  if (m) {
    let rel: string;
    try {
      rel = decodeURIComponent(m[2]);
    } catch {
      throw new NotFound();
    }
    const root = site.roots[Number(m[1])];
    const file = root ? fileInside(root, rel) : null;
    if (!file) throw new NotFound();
    res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/octet-stream', 'Content-Disposition': 'attachment' });
    createReadStream(file).pipe(res);
    return;
  }
  throw new NotFound();
}

/** Names a browser on this machine uses for a loopback server. */
const LOCAL_NAMES = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/;

/**
 * `loopbackOnly`: answer only requests addressed to a local name, so that a web page elsewhere
 * cannot read the folders through DNS rebinding (its name resolving to 127.0.0.1).
 */
export function viewServer(site: ViewSite, loopbackOnly = true): Server {
  return createServer((req, res) => {
    if (loopbackOnly && !LOCAL_NAMES.test(req.headers.host ?? '')) return send(res, 421, 'refinery view answers only to 127.0.0.1 and localhost', 'text/plain');
    route(site, req, res).catch((err: unknown) => {
      if (err instanceof NotFound) return send(res, 404, page({ title: 'not found' }, html`<h1>Not found</h1><p>Nothing here: the viewer shows only the folders it was given.</p>`));
      if (err instanceof UserError) return send(res, 400, page({ title: 'bad request' }, html`<h1>Bad request</h1><p>${err.message}</p>`));
      console.error(`refinery view: ${req.url}: ${errorMessage(err)}`);
      send(res, 500, page({ title: 'error' }, html`<h1>Error</h1><pre>${errorMessage(err)}</pre>`));
    });
  });
}
