/**
 * WARC (1.0, 1.1 and the pre-standard 0.17/0.18) and ARC v1/v2 records from decompressed
 * bytes. Lenient where real archives are sloppy (bare LF line ends, folded headers, blank
 * lines between records), strict about lengths, and never stuck: anything that is not a
 * record is reported as damage and skipped up to the next line that starts a record.
 */
import type { ByteReader } from './byte-reader.js';

const MAX_HEADER = 64 << 10;
/** Unwanted records up to this size are still read, to check their length against the next record. */
const CHECKED_SKIP = 1 << 20;
const WARC = Buffer.from('WARC/');
const ARC_LINE = /^(\S+) (\S+) (\d{8,14}) (\S*)(?: .*)? (\d+)$/;

export interface RawRecord {
  format: 'warc' | 'arc';
  /** "WARC/1.0", "WARC/0.17", "ARC". */
  version: string;
  /** Offset of the record in the reader's coordinates. */
  offset: number;
  /** WARC-Type, lower case; ARC: "filedesc" for the file header, else "response". */
  type: string;
  /** Header fields with lower-case names (ARC: url, ip-address, archive-date, content-type). */
  headers: Map<string, string>;
  contentLength: number;
  /** The record block, or null when it was not wanted or is over the size cap. Valid until the next record. */
  content: Buffer | null;
  /** The input ended before the declared length. */
  truncated: boolean;
  /** Wanted, but over the size cap (skipped, not read). */
  tooLarge: boolean;
}

export interface RecordOptions {
  /** Read this record's content? Others are skipped without being held in memory. */
  want(type: string, headers: Map<string, string>): boolean;
  maxContent: number;
  onDamage(offset: number, reason: string): void;
  /**
   * Fail when no record starts within this many bytes of the start: the input is not an
   * archive (an endless HTTP body of something else would otherwise be scanned forever).
   */
  firstRecordWithin?: number;
}

/** End of a header block: the first blank line, CRLF or bare LF style. */
export function headerEnd(b: Buffer): { end: number; sep: number } | null {
  const crlf = b.indexOf('\r\n\r\n');
  // Look for a bare-LF blank line only before the CRLF one: the body may be long.
  const lf = (crlf === -1 ? b : b.subarray(0, crlf)).indexOf('\n\n');
  if (lf !== -1) return { end: lf, sep: 2 };
  return crlf === -1 ? null : { end: crlf, sep: 4 };
}

function parseWarcHeader(text: string): { version: string; headers: Map<string, string>; bad: string[] } {
  const lines = text.split('\n');
  const version = lines[0].trim();
  const headers = new Map<string, string>();
  const bad: string[] = [];
  let last = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].charCodeAt(lines[i].length - 1) === 13 ? lines[i].slice(0, -1) : lines[i];
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      bad.push(line.slice(0, 60));
      continue;
    }
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return { version, headers, bad };
}

/** After `at`, only blank bytes and then the start of a record (or the end of the input)? */
function nextStartsRecord(b: Buffer, at: number): boolean {
  if (at >= b.length) return true;
  let i = at;
  while (i < b.length && (b[i] === 13 || b[i] === 10)) i++;
  if (i >= b.length) return true;
  return b.subarray(i, i + 5).equals(WARC.subarray(0, Math.min(5, b.length - i)));
}

/** Where content should end if a record header starts inside it (a Content-Length that is too long), or -1. */
function earlierRecordStart(b: Buffer, limit: number): number {
  for (let i = b.indexOf('\nWARC/'); i !== -1 && i < limit; i = b.indexOf('\nWARC/', i + 1)) {
    if (/^WARC\/\d+\.\d+\r?\n/.test(b.toString('latin1', i + 1, i + 20))) {
      let end = i;
      while (end > 0 && (b[end - 1] === 13 || b[end - 1] === 10)) end--;
      return end;
    }
  }
  return -1;
}

/** Index of the next line in `b` (after `from`) that starts a WARC record or an ARC record, or -1. */
function nextRecordStart(b: Buffer, from: number, arc: boolean): number {
  for (let nl = b.indexOf(10, from); nl !== -1 && nl + 1 < b.length; nl = b.indexOf(10, nl + 1)) {
    const at = nl + 1;
    if (b.subarray(at, at + 5).equals(WARC)) return at;
    if (arc) {
      const eol = b.indexOf(10, at);
      if (eol !== -1 && eol - at < 4096 && ARC_LINE.test(b.toString('latin1', at, eol))) return at;
    }
  }
  return -1;
}

export async function* parseRecords(r: ByteReader, opts: RecordOptions): AsyncGenerator<RawRecord> {
  let sawArc = false;
  const start = r.position;
  let found = false;
  for (;;) {
    let head = await r.peek(MAX_HEADER);
    let blank = 0;
    while (blank < head.length && (head[blank] === 13 || head[blank] === 10 || head[blank] === 32 || head[blank] === 0)) blank++;
    if (blank > 0) {
      r.advance(blank);
      head = await r.peek(MAX_HEADER);
    }
    if (head.length === 0) return;
    const offset = r.position;

    let record: RawRecord | null = null;
    let headerLength = 0;
    if (head.subarray(0, 5).equals(WARC)) {
      const found = headerEnd(head);
      // A header cut off by the end of the input still names the record (its content is missing).
      const atEnd = !found && head.length < MAX_HEADER;
      if (!found && !atEnd) {
        opts.onDamage(offset, 'record header longer than 64 KiB: not a record');
      } else {
        const end = found ? found.end : head.length;
        const { version, headers, bad } = parseWarcHeader(head.toString('latin1', 0, end));
        const length = Number(headers.get('content-length'));
        if (!Number.isInteger(length) || length < 0) {
          opts.onDamage(offset, `record header without a valid Content-Length${bad.length ? ` (unparsable lines: ${bad.join(' | ')})` : ''}`);
        } else {
          if (bad.length) opts.onDamage(offset, `record header has unparsable lines: ${bad.join(' | ')}`);
          headerLength = found ? found.end + found.sep : head.length;
          record = {
            format: 'warc',
            version,
            offset,
            type: (headers.get('warc-type') ?? '').toLowerCase(),
            headers,
            contentLength: length,
            content: null,
            truncated: false,
            tooLarge: false,
          };
        }
      }
    } else {
      const eol = head.indexOf(10);
      const line = eol === -1 ? '' : head.toString('latin1', 0, eol).replace(/\r$/, '');
      const m = ARC_LINE.exec(line);
      if (m && (sawArc || line.startsWith('filedesc://') || /^[a-z]+:/i.test(m[1]))) {
        sawArc = true;
        headerLength = eol + 1;
        const headers = new Map([
          ['url', m[1]],
          ['ip-address', m[2]],
          ['archive-date', m[3]],
          ['content-type', m[4]],
        ]);
        record = {
          format: 'arc',
          version: 'ARC',
          offset,
          type: m[1].startsWith('filedesc://') ? 'filedesc' : 'response',
          headers,
          contentLength: Number(m[5]),
          content: null,
          truncated: false,
          tooLarge: false,
        };
      } else {
        opts.onDamage(offset, 'bytes that do not start a record');
      }
    }

    if (!record) {
      // Resynchronise on the next line that starts a record.
      for (;;) {
        if (!found && opts.firstRecordWithin !== undefined && r.position - start >= opts.firstRecordWithin) {
          throw new Error(`not a WARC, ARC or WET file: no record starts in its first ${opts.firstRecordWithin >> 10} KiB`);
        }
        const window = await r.peek(1 << 20);
        const at = nextRecordStart(window, 0, sawArc);
        if (at !== -1) {
          r.advance(at);
          break;
        }
        if (window.length < 1 << 20) {
          await r.skip(window.length);
          return;
        }
        r.advance(window.length - 5);
      }
      continue;
    }

    found = true;
    r.advance(headerLength);
    const wanted = opts.want(record.type, record.headers);
    if (wanted && record.contentLength > opts.maxContent) record.tooLarge = true;
    const read = wanted ? !record.tooLarge : record.contentLength <= CHECKED_SKIP;
    if (read) {
      // Read a little past the content to check that the next record starts where the length says.
      const view = await r.peek(record.contentLength + 16);
      let length = Math.min(record.contentLength, view.length);
      record.truncated = view.length < record.contentLength;
      if (record.format === 'warc' && !nextStartsRecord(view, record.contentLength)) {
        const earlier = earlierRecordStart(view, length);
        if (earlier !== -1) {
          opts.onDamage(offset, `Content-Length ${record.contentLength} runs into the next record: content cut at ${earlier} bytes`);
          length = earlier;
          record.truncated = false;
        }
      }
      if (wanted) record.content = view.subarray(0, length);
      yield record;
      r.advance(length);
    } else {
      const skipped = await r.skip(record.contentLength);
      record.truncated = skipped < record.contentLength;
      yield record;
    }
    if (record.truncated) {
      opts.onDamage(offset, `record cut short: the input ends inside its ${record.contentLength}-byte content`);
    }
  }
}
