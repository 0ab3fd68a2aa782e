/**
 * Records of a web archive file, compressed (gzip per record, or whole-file) or not,
 * each with its location: the byte offset of the record (plain files) or of its gzip
 * member (`member+inner` when a member holds several records).
 */
import { ByteReader } from './byte-reader.js';
import { gzipMembers, isGzip } from './gzip.js';
import { parseRecords, type RawRecord, type RecordOptions } from './records.js';

export interface ArchiveRecord extends RawRecord {
  /** "12345" (offset of the record or of its gzip member) or "12345+678" (record 678 bytes into member 12345). */
  location: string;
}

export interface ArchiveOptions extends Omit<RecordOptions, 'onDamage'> {
  /** Most decompressed bytes held for one gzip member; bigger members are streamed. */
  maxMember: number;
  /** Most compressed bytes of one member inflated in one call (default 64 MiB); bigger members are streamed. */
  maxWindow?: number;
  onDamage(where: string, reason: string): void;
}

/** An archive whose first record does not start within this many bytes is not an archive. */
export const FIRST_RECORD_WITHIN = 1 << 20;

const at = (member: number, inner: number) => (inner === 0 ? `${member}` : `${member}+${inner}`);

export async function* readArchive(raw: ByteReader, opts: ArchiveOptions): AsyncGenerator<ArchiveRecord> {
  const head = await raw.peek(2);
  if (!isGzip(head)) {
    const records = parseRecords(raw, { ...opts, firstRecordWithin: FIRST_RECORD_WITHIN, onDamage: (offset, reason) => opts.onDamage(`${offset}`, reason) });
    for await (const record of records) yield Object.assign(record, { location: `${record.offset}` });
    return;
  }
  let first = true;
  for await (const event of gzipMembers(raw, opts.maxMember, opts.maxWindow)) {
    if (event.kind === 'damage') {
      opts.onDamage(`${event.offset}`, event.reason);
      continue;
    }
    const member = event.offset;
    const reader = event.kind === 'member' ? ByteReader.fromBuffer(event.data) : event.reader;
    const records = parseRecords(reader, {
      ...opts,
      firstRecordWithin: first ? FIRST_RECORD_WITHIN : undefined,
      onDamage: (offset, reason) => opts.onDamage(at(member, offset), reason),
    });
    first = false;
    for await (const record of records) yield Object.assign(record, { location: at(member, record.offset) });
  }
}
