/**
 * `refinery ingest`: web archives (WARC 1.0/1.1/0.17, ARC, WET; gzip per record, whole-file
 * gzip, or plain) -> raw document shards. HTML responses with a kept status and content type
 * become documents with their HTML decoded to UTF-8; WET conversion records become documents
 * with ready text. Everything else is counted by type and skipped. Damaged input yields its
 * intact records; each damaged spot is reported with its offset.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { RunError, UserError, errorMessage } from '../core/errors.js';
import { CORE_COLUMNS, HTML_COLUMN, type ColumnSpec, type Doc } from '../core/schema.js';
import { defineStage, type TaskContext, type TaskInput, type TaskSource } from '../core/stage.js';
import { readArchive, type ArchiveRecord } from '../warc/archive.js';
import { ByteReader } from '../warc/byte-reader.js';
import { decodeBody, detectCharset } from '../warc/charset.js';
import { decodeHttpBody, parseContentType, parseHttpHead } from '../warc/http.js';
import { CDX_PREFIX, capturesOf, cdxPages, ordered, type Capture } from './cdx.js';
import { commonCrawlFiles, crawlUrl, httpChunks, isUrl, listingPaths, type RemoteOptions } from './remote.js';

export const INGEST_COLUMNS: readonly ColumnSpec[] = [
  ...CORE_COLUMNS,
  HTML_COLUMN,
  { name: 'warc_record_id', type: 'string' },
  { name: 'warc_type', type: 'string' },
  { name: 'http_status', type: 'int32' },
  { name: 'charset', type: 'string' },
  { name: 'warc_truncated', type: 'string' },
];

export const ARCHIVE_EXTENSIONS = ['.warc', '.warc.gz', '.arc', '.arc.gz', '.wet', '.wet.gz'];

export const ingestOptions = z
  .object({
    content_types: z
      .array(z.string())
      .default(['text/html', 'application/xhtml+xml'])
      .describe('HTTP content types kept (prefix match, comma-separated)'),
    statuses: z.array(z.coerce.number().int()).default([200]).describe('HTTP statuses kept (comma-separated)'),
    conversions: z.boolean().default(true).describe('keep WET conversion records as ready text'),
    max_record_size: byteSize().prefault('16MiB').describe('records larger than this are excluded as too-large, unread'),
    cc: z
      .string()
      .regex(/^CC-MAIN-\d{4}-\d{2}$/, 'expected a crawl id such as CC-MAIN-2024-10')
      .optional()
      .describe('read files of this Common Crawl crawl (e.g. CC-MAIN-2024-10), listed by its paths file'),
    paths: z
      .string()
      .optional()
      .describe('a local listing of crawl paths (crawl-data/... or s3://commoncrawl/..., one per line, .gz allowed), like a warc.paths.gz'),
    files: z.number().int().min(1).default(1).describe('with --cc or --paths: how many files of the listing to read'),
    skip: z.number().int().min(0).default(0).describe('with --cc or --paths: skip this many files of the listing first'),
    wet: z.boolean().default(false).describe('with --cc: read the WET (extracted text) files instead of the WARC files'),
    cc_base: z.string().url().default('https://data.commoncrawl.org').describe('where crawl files are served (a mirror laid out like data.commoncrawl.org)'),
    cc_index: z
      .string()
      .url()
      .optional()
      .describe('a CDX index endpoint (e.g. https://index.commoncrawl.org/CC-MAIN-2024-10-index): fetch only the captures of --url-pattern, each by byte range'),
    url_pattern: z.string().min(1).optional().describe('with --cc-index: the URL pattern, e.g. "example.com/*" or "*.example.com"'),
    http_retries: z.number().int().min(0).default(8).describe('retries of a failed or dropped HTTP transfer (resumed with a Range request)'),
    http_timeout: z.number().positive().default(60).describe('seconds to wait for a response, or for the next bytes of its body'),
    http_max_size: byteSize().prefault('64GiB').describe('stop reading a URL after this many bytes and fail its task (an endless body)'),
  })
  .strict()
  .refine((c) => (c.cc_index === undefined) === (c.url_pattern === undefined), {
    message: '--cc-index and --url-pattern go together',
    path: ['url_pattern'],
  });
export type IngestConfig = z.infer<typeof ingestOptions>;

function parseWarcDate(value: string | undefined): number | null {
  if (!value) return null;
  if (/^\d{14}$/.test(value)) {
    const d = value;
    return Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(8, 10), +d.slice(10, 12), +d.slice(12, 14));
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

const stripAngles = (v: string | undefined) => (!v ? null : v.charCodeAt(0) === 60 && v.endsWith('>') ? v.slice(1, -1) : v);

/** What one record becomes: a document, a rejected document, or a counted skip. */
export function recordToDoc(rec: ArchiveRecord, task: TaskInput, config: IngestConfig, ctx: TaskContext): Doc | null {
  ctx.count(`records:${rec.type || 'unknown'}`);
  const h = rec.headers;
  const isArc = rec.format === 'arc';
  const url = stripAngles(isArc ? h.get('url') : h.get('warc-target-uri'));
  const doc: Doc = {
    id: stripAngles(h.get('warc-record-id')) ?? `${task.rel}@${rec.location}`,
    url,
    source: `${task.path}@${rec.location}`,
    fetched_at: parseWarcDate(isArc ? h.get('archive-date') : h.get('warc-date')),
    warc_record_id: stripAngles(h.get('warc-record-id')),
    warc_type: rec.type,
    warc_truncated: h.get('warc-truncated') ?? null,
  };

  if (rec.type === 'conversion' && config.conversions) {
    doc.content_type = 'text/plain';
    doc.text = rec.content ? rec.content.toString('utf8') : null;
    doc.charset = 'utf-8';
    if (rec.tooLarge) return reject(ctx, doc, 'too-large', `${rec.contentLength} bytes > max_record_size`);
    if (rec.truncated) return reject(ctx, doc, 'truncated-record', 'the input ends inside this record');
    if (!url) return reject(ctx, doc, 'missing-url', 'conversion record without WARC-Target-URI');
    return doc;
  }
  if (rec.type !== 'response') {
    ctx.count(`skipped:${rec.type || 'unknown'}`);
    return null;
  }
  const isHttp = isArc ? /^https?:/i.test(url ?? '') : /application\/http/i.test(h.get('content-type') ?? '') || /^https?:/i.test(url ?? '');
  if (!isHttp) {
    ctx.count('skipped:not-http');
    return null;
  }
  if (rec.tooLarge) return reject(ctx, doc, 'too-large', `${rec.contentLength} bytes > max_record_size`);
  const parsed = parseHttpHead(rec.content as Buffer);
  if (!parsed.ok) {
    if (rec.truncated) return reject(ctx, doc, 'truncated-record', `the input ends inside this record (${parsed.detail})`);
    return reject(ctx, doc, parsed.reason, parsed.detail);
  }
  const head = parsed.head;
  doc.http_status = head.status;
  const { mime, charset: declared } = parseContentType(head.headers.get('content-type'));
  doc.content_type = mime || null;
  if (!config.statuses.includes(head.status)) {
    ctx.count('skipped:status');
    return null;
  }
  if (!config.content_types.some((t) => mime.startsWith(t))) {
    ctx.count('skipped:content-type');
    return null;
  }
  const decoded = decodeHttpBody(head, config.max_record_size);
  if (!decoded.ok) return reject(ctx, doc, decoded.reason, decoded.detail);
  const res = decoded.response;
  const { charset } = detectCharset(res.body, declared);
  doc.charset = charset;
  doc.html = decodeBody(res.body, charset);
  if (rec.truncated) return reject(ctx, doc, 'truncated-record', 'the input ends inside this record');
  return doc;
}

function reject(ctx: TaskContext, doc: Doc, reason: string, detail: string): null {
  ctx.reject(doc, reason, detail);
  return null;
}

function remoteOptions(config: IngestConfig, ctx?: TaskContext): Partial<RemoteOptions> {
  return {
    retries: config.http_retries,
    timeoutMs: config.http_timeout * 1000,
    maxBytes: config.http_max_size,
    onRetry: (url, attempt, reason) => {
      if (ctx) ctx.count('http:retries');
      else process.stderr.write(`ingest: retrying ${url} (${attempt}): ${reason}\n`);
    },
  };
}

/** Documents of the captures listed by one page of a CDX index answer, each fetched by byte range. */
async function* captureDocs(task: TaskInput, config: IngestConfig, ctx: TaskContext): AsyncGenerator<Doc> {
  const remote = remoteOptions(config, ctx);
  const base = config.cc_base.replace(/\/+$/, '');
  const wanted: Capture[] = [];
  for (const c of await capturesOf(task.path, remote)) {
    if (c.status !== undefined && !config.statuses.includes(Number(c.status))) ctx.count('skipped:status');
    else if (c.mime !== undefined && !config.content_types.some((t) => (c['mime-detected'] ?? c.mime ?? '').startsWith(t))) ctx.count('skipped:content-type');
    else wanted.push(c);
  }
  const fetchCapture = async (c: Capture) => {
    const parts: Buffer[] = [];
    const url = `${base}/${c.filename}`;
    for await (const chunk of httpChunks(url, remote, c.offset, c.offset + c.length - 1)) parts.push(chunk);
    return { url, capture: c, bytes: Buffer.concat(parts) };
  };
  for await (const { url, capture, bytes } of ordered(wanted, 8, fetchCapture)) {
    // Offsets stay those of the WARC file, so `source` points into it like any other record.
    const origin: TaskInput = { ...task, path: url, rel: capture.filename };
    yield* archiveDocs(ByteReader.fromBuffer(bytes, capture.offset), origin, config, ctx);
  }
}

async function* archiveDocs(reader: ByteReader, task: TaskInput, config: IngestConfig, ctx: TaskContext): AsyncGenerator<Doc> {
  const records = readArchive(reader, {
    want: (type) => type === 'response' || (type === 'conversion' && config.conversions),
    maxContent: config.max_record_size,
    maxMember: Math.max(64 << 20, 2 * config.max_record_size),
    onDamage: (where, reason) => ctx.problem(`offset ${where}`, reason),
  });
  for await (const rec of records) {
    const doc = recordToDoc(rec, task, config, ctx);
    if (doc) yield doc;
  }
}

export const ingestStage = defineStage({
  name: 'ingest',
  summary: 'WARC / ARC / WET files -> raw document shards (HTML or text)',
  description:
    'Reads WARC 1.0/1.1 and 0.17, ARC v1/v2 and WET files, gzipped per record, gzipped whole, or plain. ' +
    'HTTP responses with a kept status and content type become documents (HTML decoded to UTF-8 from the charset ' +
    'of the HTTP header, <meta>, BOM or a statistical guess); WET conversion records become text documents. ' +
    'Requests, metadata, revisits, warcinfo and other responses are counted by type and skipped. Damaged input ' +
    '(truncated gzip, records cut short, corrupt headers, garbage between records) is reported with its offset and ' +
    'every intact record is kept; damaged documents go to _excluded/ with their reason. Inputs may be http(s) URLs, ' +
    'streamed without a temporary copy and resumed with Range requests after a dropped connection; --cc reads files ' +
    'of a Common Crawl crawl from its paths listing, --cc-index with --url-pattern only the matching captures.',
  options: ingestOptions,
  input: { kind: 'files', extensions: ARCHIVE_EXTENSIONS, what: 'WARC, ARC or WET files', urls: true },
  async resolveInputs(config, inputs) {
    const all = [...inputs];
    try {
      if (config.cc) all.push(...(await commonCrawlFiles({ crawl: config.cc, base: config.cc_base, files: config.files, skip: config.skip, wet: config.wet }, remoteOptions(config))));
      if (config.paths) {
        let listing: Buffer;
        try {
          listing = readFileSync(config.paths);
        } catch (err) {
          throw new UserError(`${config.paths}: cannot read the paths listing (${errorMessage(err)})`);
        }
        all.push(...listingPaths(listing).slice(config.skip, config.skip + config.files).map((p) => crawlUrl(config.cc_base, p)));
      }
      if (config.cc_index && config.url_pattern) all.push(...(await cdxPages(config.cc_index, config.url_pattern, remoteOptions(config))));
    } catch (err) {
      throw err instanceof UserError ? err : new RunError(`ingest: ${errorMessage(err)}`);
    }
    if (all.length === 0) throw new UserError('ingest: give archive files, directories or URLs, or --cc / --paths / --cc-index');
    return all;
  },
  async open(task, config, ctx): Promise<TaskSource> {
    if (task.path.startsWith(CDX_PREFIX)) return { columns: INGEST_COLUMNS, docs: captureDocs(task, config, ctx) };
    const reader = isUrl(task.path) ? new ByteReader(httpChunks(task.path, remoteOptions(config, ctx))) : ByteReader.fromFile(task.path);
    return { columns: INGEST_COLUMNS, docs: archiveDocs(reader, task, config, ctx) };
  },
});
