/**
 * `refinery import`: bring your own corpus. JSONL (optionally gzipped) with one document
 * per line, or plain text with one document per file or per line, becomes shards.
 * Fields other than text/id/url/date are kept, as JSON, in the `metadata` column, so
 * `refinery export` can give them back.
 */
import * as z from 'zod';
import { CORE_COLUMNS, attachUtf8, type ColumnSpec, type Doc } from '../core/schema.js';
import { readLines, readText } from '../core/lines.js';
import { parseLargeObject } from './large-json.js';
import { defineStage, drop, type Step, type TaskContext, type TaskInput, type TaskSource } from '../core/stage.js';

export const METADATA_COLUMN: ColumnSpec = { name: 'metadata', type: 'string' };

const options = z
  .object({
    text_field: z.string().min(1).default('text').describe('JSON field that holds the document text'),
    id_field: z.string().min(1).default('id').describe('JSON field that holds the document id (else <file>#<line>)'),
    url_field: z.string().min(1).default('url').describe('JSON field that holds the URL'),
    date_field: z.string().min(1).default('date').describe('JSON field that holds the fetch date (ISO 8601 or epoch ms)'),
    txt_mode: z.enum(['file', 'line']).default('file').describe('.txt input: one document per file, or per non-empty line'),
    min_chars: z.number().int().min(0).default(1).describe('exclude documents with fewer characters (reason too-short)'),
  })
  .strict();
type ImportConfig = z.infer<typeof options>;

const stripExt = (rel: string) => rel.replace(/(\.jsonl|\.ndjson|\.txt)(\.gz)?$/, '');
const isJsonl = (path: string) => /\.(jsonl|ndjson)(\.gz)?$/.test(path);

/** JavaScript's (and so Arrow's millisecond timestamps' usable) date range: ±100,000,000 days from 1970. */
const MAX_DATE_MS = 8.64e15;

function parseDate(v: unknown): number | null {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? ms : null;
}

function fromRecord(record: Record<string, unknown>, c: ImportConfig, fallbackId: string, source: string): Doc {
  const { [c.text_field]: text, [c.id_field]: id, [c.url_field]: url, [c.date_field]: date, ...rest } = record;
  const fetchedAt = parseDate(date);
  // A date that is not one (or out of range, like 1e300) is not stored as 1970: it stays, as given, in metadata.
  if (fetchedAt === null && date !== undefined && date !== null) rest[c.date_field] = date;
  return {
    id: typeof id === 'string' || typeof id === 'number' ? String(id) : fallbackId,
    url: typeof url === 'string' ? url : null,
    source,
    fetched_at: fetchedAt,
    text: typeof text === 'string' ? text : null,
    metadata: Object.keys(rest).length > 0 ? JSON.stringify(rest) : null,
  };
}

/** Lines longer than this are parsed from their bytes (./large-json.ts): a 200 MB line took 2.8 s less. */
const LARGE_LINE_BYTES = 8 << 20;

async function* jsonlDocs(task: TaskInput, c: ImportConfig, ctx: TaskContext): AsyncGenerator<Doc> {
  const stem = stripExt(task.rel);
  for await (const line of readLines(task.path, (reason) => ctx.problem('end of file', reason), { rawAbove: LARGE_LINE_BYTES })) {
    // Valid UTF-8 only: invalid bytes decode to U+FFFD through the string path, as for any line.
    // A large line's string values as the UTF-8 they were parsed from (written to the shard as they are).
    const utf8 = line.raw ? new Map<string, Uint8Array>() : undefined;
    let record: unknown = line.raw && line.validUtf8 ? parseLargeObject(line.raw, utf8) : null;
    if (line.raw && record === null) line.text = line.raw.toString('utf8');
    line.raw = undefined;
    if (record === null && line.text.trim() === '') continue;
    const id = `${stem}#${line.number}`;
    const source = `${task.path}:${line.number}`;
    if (!line.validUtf8) ctx.problem(`line ${line.number}`, 'invalid UTF-8, decoded with U+FFFD');
    try {
      record ??= JSON.parse(line.text);
    } catch (err) {
      const why = line.complete ? (err as Error).message : 'line cut off by the damaged stream';
      ctx.reject({ id, source, text: line.text }, 'malformed-json', why);
      continue;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      ctx.reject({ id, source, text: line.text }, 'not-an-object', 'a JSON object is expected');
      continue;
    }
    const doc = fromRecord(record as Record<string, unknown>, c, id, source);
    if (doc.text === null) {
      // Nothing is lost: the whole record stays in the exclusion shard's metadata.
      doc.metadata = line.text || JSON.stringify(record);
      ctx.reject(doc, 'missing-text', `no string field "${c.text_field}"`);
      continue;
    }
    // The JSON is parsed: let its text go while the document is written (a 200 MB line is a 400 MB string).
    line.text = '';
    const textBytes = utf8?.get(c.text_field);
    if (textBytes) attachUtf8(doc, 'text', textBytes);
    yield doc;
  }
}

async function* textDocs(task: TaskInput, c: ImportConfig, ctx: TaskContext): AsyncGenerator<Doc> {
  const stem = stripExt(task.rel);
  if (c.txt_mode === 'file') {
    const { text, validUtf8 } = await readText(task.path, (reason) => ctx.problem('file', reason));
    if (!validUtf8) ctx.problem('file', 'invalid UTF-8, decoded with U+FFFD');
    yield { id: stem, source: task.path, text };
    return;
  }
  for await (const line of readLines(task.path, (reason) => ctx.problem('end of file', reason))) {
    if (line.text.trim() === '') continue;
    if (!line.validUtf8) ctx.problem(`line ${line.number}`, 'invalid UTF-8, decoded with U+FFFD');
    yield { id: `${stem}#${line.number}`, source: `${task.path}:${line.number}`, text: line.text };
  }
}

export const importStage = defineStage({
  name: 'import',
  summary: 'JSONL / JSONL.gz / text files -> document shards',
  description:
    'Each input file is one task. JSONL: one JSON object per line; unparseable lines and records without text go to ' +
    '_excluded/ with their reason, so nothing is lost. Fields other than text, id, url and date are kept as JSON in the ' +
    '`metadata` column. Text: one document per file (id = relative path) or per line.',
  options,
  input: { kind: 'files', extensions: ['.jsonl', '.jsonl.gz', '.ndjson', '.ndjson.gz', '.txt', '.txt.gz'], what: 'JSONL or text files' },
  async open(task, config, ctx): Promise<TaskSource> {
    const docs = isJsonl(task.path) ? jsonlDocs(task, config, ctx) : textDocs(task, config, ctx);
    return { columns: [...CORE_COLUMNS, METADATA_COLUMN], docs };
  },
  steps(config): Step[] {
    if (config.min_chars === 0) return [];
    return [
      {
        name: 'min-chars',
        kind: 'filter',
        apply: (doc) =>
          (doc.text?.length ?? 0) < config.min_chars
            ? drop('too-short', `${doc.text?.length ?? 0} < ${config.min_chars} characters`)
            : undefined,
      },
    ];
  },
});
