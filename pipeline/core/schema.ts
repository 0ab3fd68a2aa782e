/**
 * The document schema shared by every stage (DESIGN.md, "The shard contract").
 *
 * A shard is an Arrow IPC file whose columns are the core columns below plus
 * columns added by stages (named after the stage: `pii_email_count`, `domain`, ...).
 * The schema version lives in the file metadata; readers refuse other versions.
 */
import {
  Bool,
  DataType,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  Schema,
  TimestampMillisecond,
  Type,
  Utf8,
} from 'apache-arrow';
import { UserError } from './errors.js';

export const SCHEMA_VERSION = 1;

/** Keys of the Arrow file (schema) metadata that refinery writes. */
export const META = {
  schemaVersion: 'refinery.schema_version',
  stage: 'refinery.stage',
  configHash: 'refinery.config_hash',
  task: 'refinery.task',
} as const;

/** The column types a document can carry. Arrow types are chosen so pyarrow/polars/duckdb read them natively. */
export type ColumnType = 'string' | 'int32' | 'int64' | 'float32' | 'float64' | 'bool' | 'timestamp';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** Only `id` is non-nullable. */
  nullable?: boolean;
}

/** A scalar cell value as seen by stage code. Timestamps are epoch milliseconds. */
export type Value = string | number | boolean | null;

/** One document: the core fields plus whatever columns stages added. */
export interface Doc {
  id: string;
  text?: string | null;
  [column: string]: Value | undefined;
}

const UTF8 = Symbol('utf8 of values');
type Utf8Values = Map<string, { value: string; bytes: Uint8Array }>;

/**
 * Records that `doc[column]`'s UTF-8 encoding is `bytes` (which must not change until the
 * document is written: a writer may take them as they are), which a reader already holds (import
 * parses a huge JSONL line from its bytes), so a shard writer copies them instead of encoding
 * the string again (0.7 s for a 200 MB text). Kept out of sight of spreads and JSON; a step that
 * replaces the value makes the record stale, and a stale record is never used.
 */
export function attachUtf8(doc: Doc, column: string, bytes: Uint8Array): void {
  const value = doc[column];
  if (typeof value !== 'string') return;
  let known = (doc as { [UTF8]?: Utf8Values })[UTF8];
  if (!known) Object.defineProperty(doc, UTF8, { value: (known = new Map()), enumerable: false });
  known.set(column, { value, bytes });
}

/** The UTF-8 bytes recorded for `value` in `doc[column]`, if still its value. */
export function utf8Of(doc: Doc, column: string, value: Value | undefined): Uint8Array | undefined {
  const entry = (doc as { [UTF8]?: Utf8Values })[UTF8]?.get(column);
  return entry && entry.value === value ? entry.bytes : undefined;
}

export const CORE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', type: 'string', nullable: false },
  { name: 'url', type: 'string' },
  { name: 'source', type: 'string' },
  { name: 'fetched_at', type: 'timestamp' },
  { name: 'content_type', type: 'string' },
  { name: 'text', type: 'string' },
  { name: 'lang', type: 'string' },
  { name: 'lang_score', type: 'float32' },
];

/** Raw HTML: present from ingest until extract, which owns and drops it. */
export const HTML_COLUMN: ColumnSpec = { name: 'html', type: 'string' };

/** Columns added to every document written to an exclusion shard. */
export const EXCLUSION_COLUMNS: readonly ColumnSpec[] = [
  { name: 'excluded_by', type: 'string' },
  { name: 'reason', type: 'string' },
];

export function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'string':
      return new Utf8();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'timestamp':
      return new TimestampMillisecond('UTC');
  }
}

/**
 * Map an Arrow type found in a file back to a column type. Files written by other
 * tools (pyarrow, polars) may use wider or narrower types; those that refinery can
 * carry without loss of meaning are accepted, anything else is a clear error.
 */
export function columnTypeOf(field: Field, file: string): ColumnType {
  const t = field.type;
  switch (t.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'string';
    case Type.Bool:
      return 'bool';
    case Type.Int: {
      const bits: number = (t as Int32).bitWidth;
      return bits === 64 ? 'int64' : 'int32';
    }
    case Type.Float:
      return (t as Float32).precision === 2 ? 'float64' : 'float32';
    case Type.Timestamp:
      return 'timestamp';
    default:
      throw new UserError(
        `${file}: column "${field.name}" has Arrow type ${String(t)}, which refinery cannot carry through a stage`,
      );
  }
}

export function buildSchema(columns: readonly ColumnSpec[], metadata: Record<string, string>): Schema {
  const fields = columns.map((c) => new Field(c.name, arrowType(c.type), c.nullable !== false));
  return new Schema(fields, new Map(Object.entries(metadata)));
}

/**
 * Columns of a stage's output: the input columns in their order, then the added ones.
 * Re-adding an existing column with the same type is allowed (a rerun of a stage over
 * its own output); with another type it is an error, never a silent change.
 */
export function mergeColumns(
  base: readonly ColumnSpec[],
  added: readonly ColumnSpec[],
  removed: readonly string[] = [],
): ColumnSpec[] {
  const out = base.filter((c) => !removed.includes(c.name));
  for (const col of added) {
    const existing = out.find((c) => c.name === col.name);
    if (!existing) out.push(col);
    else if (existing.type !== col.type) {
      throw new UserError(`column "${col.name}" exists as ${existing.type}; a step wants to write it as ${col.type}`);
    }
  }
  return out;
}

/** Check a shard's metadata against this version of the contract. */
export function checkSchemaVersion(metadata: Map<string, string>, file: string): void {
  const version = metadata.get(META.schemaVersion);
  if (version !== undefined && Number(version) !== SCHEMA_VERSION) {
    throw new UserError(
      `${file}: shard has schema version ${version}; this refinery reads version ${SCHEMA_VERSION}`,
    );
  }
}

/** UTF-8 size of the document's content, the unit of all byte counts in stats. */
export function docBytes(doc: Doc): number {
  const text = doc.text ?? doc.html;
  return typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : 0;
}
