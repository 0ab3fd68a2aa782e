/**
 * Column builders (JS values -> Arrow buffers) and readers (Arrow buffers -> JS values).
 *
 * apache-arrow's generic builders and `Vector.get` are convenient but slow for text:
 * here strings are encoded straight into one growing byte buffer with Int32 offsets, and
 * decoded with Buffer slices, which keeps writing and reading close to memcpy speed.
 */
import { Data, makeData, Type, type DataType } from 'apache-arrow';
import { arrowType, type ColumnType, type Value } from './schema.js';

export interface ColumnBuilder {
  readonly length: number;
  /** Bytes held so far (for batch and part size limits). */
  readonly byteSize: number;
  /** `utf8`: the value's UTF-8 bytes when the caller already holds them (string columns copy them). */
  append(value: Value | undefined, utf8?: Uint8Array): void;
  /** Hand the buffers to Arrow and start over. */
  flush(): Data;
}

class Validity {
  bits = new Uint8Array(128);
  nulls = 0;

  set(index: number, valid: boolean): void {
    const byte = index >> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, byte + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    if (valid) this.bits[byte] |= 1 << (index & 7);
    else this.nulls++;
  }

  /** The bitmap for `length` rows (undefined when there is no null, Arrow's convention) and the null count; starts over. */
  take(length: number): { nullBitmap: Uint8Array | undefined; nullCount: number } {
    const taken = { nullBitmap: this.nulls > 0 ? this.bits.slice(0, (length + 7) >> 3) : undefined, nullCount: this.nulls };
    this.bits = new Uint8Array(128);
    this.nulls = 0;
    return taken;
  }
}

/** One column's buffers as Arrow Data. */
function columnData(type: DataType, length: number, validity: Validity, buffers: { valueOffsets?: Int32Array; data: ArrayBufferView }): Data {
  return makeData({ type: type as never, length, ...validity.take(length), ...buffers } as never);
}

/** Strings longer than this are measured before they are encoded (a pass of ~1 ms per MB). */
const LONG_STRING = 1 << 20;
/** Batches of string bytes above this are handed over on flush rather than copied. */
const HAND_OVER = 16 << 20;

class StringBuilder implements ColumnBuilder {
  private offsets = new Int32Array(1024);
  private bytes = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  private rows = 0;
  private readonly validity = new Validity();

  constructor(private readonly type: DataType) {}

  get length(): number {
    return this.rows;
  }
  get byteSize(): number {
    return this.used + this.rows * 4;
  }

  append(value: Value | undefined, utf8?: Uint8Array): void {
    const row = this.rows++;
    if (row + 1 >= this.offsets.length) {
      const grown = new Int32Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    if (value === null || value === undefined) {
      this.validity.set(row, false);
    } else if (utf8 && this.used === 0 && utf8.length > HAND_OVER) {
      // A value this large ends its batch: its bytes become the batch's buffer, uncopied. The
      // buffer is exactly full, so a further row would grow (copy) it before writing.
      this.bytes = Buffer.from(utf8.buffer as ArrayBuffer, utf8.byteOffset, utf8.length);
      this.used = utf8.length;
      this.validity.set(row, true);
    } else if (utf8) {
      if (this.used + utf8.length > this.bytes.length) this.grow(this.used + utf8.length);
      this.bytes.set(utf8, this.used);
      this.used += utf8.length;
      this.validity.set(row, true);
    } else {
      const str = typeof value === 'string' ? value : String(value);
      // A UTF-8 encoding takes at most 3 bytes per UTF-16 code unit. For a long string that
      // bound would triple its buffer (a 200 MB text grew a 1 GB one): count its bytes instead.
      const need = str.length > LONG_STRING ? Buffer.byteLength(str, 'utf8') : str.length * 3;
      if (this.used + need > this.bytes.length) this.grow(this.used + need);
      this.used += this.bytes.utf8Write(str, this.used);
      this.validity.set(row, true);
    }
    this.offsets[row + 1] = this.used;
  }

  private grow(min: number): void {
    let size = this.bytes.length * 2;
    while (size < min) size *= 2;
    // Past the batch size a batch ends at this row anyway: allocate what it needs, not the next power of two.
    if (min > HAND_OVER) size = min;
    const grown = Buffer.allocUnsafe(size);
    this.bytes.copy(grown, 0, 0, this.used);
    this.bytes = grown;
  }

  flush(): Data {
    const length = this.rows;
    const used = new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.used);
    // A large buffer is handed to Arrow as it is, and the builder starts a fresh one: copying
    // a 200 MB batch cost a second and its size again in memory. Small ones are copied, so the
    // builder keeps its grown buffer for the next batch.
    const handOver = this.used > HAND_OVER;
    const data = columnData(this.type, length, this.validity, {
      valueOffsets: this.offsets.slice(0, length + 1),
      data: handOver ? used : used.slice(),
    });
    if (handOver) this.bytes = Buffer.allocUnsafe(1 << 16);
    this.rows = 0;
    this.used = 0;
    this.offsets[0] = 0;
    return data;
  }
}

type NumericArray = Int32Array | Float32Array | Float64Array | BigInt64Array;

class NumberBuilder implements ColumnBuilder {
  private values: NumericArray;
  private rows = 0;
  private readonly validity = new Validity();
  private readonly big: boolean;

  constructor(
    private readonly type: DataType,
    private readonly make: (n: number) => NumericArray,
  ) {
    this.values = make(1024);
    this.big = this.values instanceof BigInt64Array;
  }

  get length(): number {
    return this.rows;
  }
  get byteSize(): number {
    return this.rows * this.values.BYTES_PER_ELEMENT;
  }

  append(value: Value | undefined): void {
    const row = this.rows++;
    if (row >= this.values.length) {
      const grown = this.make(this.values.length * 2);
      grown.set(this.values as never);
      this.values = grown;
    }
    const valid = typeof value === 'number' && !Number.isNaN(value);
    this.validity.set(row, valid);
    // Null slots are zeroed too, so equal inputs always give byte-identical files.
    if (this.big) (this.values as BigInt64Array)[row] = valid ? BigInt(Math.trunc(value)) : 0n;
    else (this.values as Float64Array)[row] = valid ? value : 0;
  }

  flush(): Data {
    const length = this.rows;
    const data = columnData(this.type, length, this.validity, { data: this.values.slice(0, length) });
    this.rows = 0;
    return data;
  }
}

class BoolBuilder implements ColumnBuilder {
  private readonly values = new Validity();
  private readonly validity = new Validity();
  private rows = 0;

  constructor(private readonly type: DataType) {}

  get length(): number {
    return this.rows;
  }
  get byteSize(): number {
    return this.rows >> 2;
  }

  append(value: Value | undefined): void {
    const row = this.rows++;
    const valid = typeof value === 'boolean';
    this.validity.set(row, valid);
    this.values.set(row, value === true);
  }

  flush(): Data {
    const length = this.rows;
    const bits = this.values.bits.slice(0, (length + 7) >> 3);
    this.values.take(length);
    this.rows = 0;
    return columnData(this.type, length, this.validity, { data: bits });
  }
}

export function makeColumnBuilder(type: ColumnType): ColumnBuilder {
  const arrow = arrowType(type);
  switch (type) {
    case 'string':
      return new StringBuilder(arrow);
    case 'int32':
      return new NumberBuilder(arrow, (n) => new Int32Array(n));
    case 'float32':
      return new NumberBuilder(arrow, (n) => new Float32Array(n));
    case 'float64':
      return new NumberBuilder(arrow, (n) => new Float64Array(n));
    case 'int64':
    case 'timestamp':
      return new NumberBuilder(arrow, (n) => new BigInt64Array(n));
    case 'bool':
      return new BoolBuilder(arrow);
  }
}

/** Random access to one column of one record batch as JS values. */
export type ColumnReader = (row: number) => Value;

const TIMESTAMP_TO_MS = [1000, 1, 1e-3, 1e-6]; // second, milli, micro, nano

export function makeColumnReader(data: Data): ColumnReader {
  const offset = data.offset;
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  const valid = bitmap
    ? (row: number) => ((bitmap[(offset + row) >> 3] >> ((offset + row) & 7)) & 1) === 1
    : () => true;
  switch (data.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8: {
      const values = data.values as Uint8Array;
      const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      if (offsets instanceof BigInt64Array) {
        return (row) =>
          valid(row) ? buf.utf8Slice(Number(offsets[offset + row]), Number(offsets[offset + row + 1])) : null;
      }
      return (row) => (valid(row) ? buf.utf8Slice(offsets[offset + row], offsets[offset + row + 1]) : null);
    }
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      return (row) => (valid(row) ? ((bits[(offset + row) >> 3] >> ((offset + row) & 7)) & 1) === 1 : null);
    }
    case Type.Timestamp: {
      const values = data.values as BigInt64Array | Int32Array;
      const scale = TIMESTAMP_TO_MS[(data.type as unknown as { unit: number }).unit] ?? 1;
      if (values instanceof Int32Array) {
        // Older arrow builds keep 64-bit values as pairs of 32-bit words (low, high).
        return (row) =>
          valid(row)
            ? (values[2 * (offset + row)] >>> 0) * scale + values[2 * (offset + row) + 1] * 4294967296 * scale
            : null;
      }
      return (row) => (valid(row) ? Number(values[offset + row]) * scale : null);
    }
    case Type.Float: {
      const values = data.values as Float32Array | Float64Array;
      // float32 cells print as the decimal they were written from (0.1, not 0.10000000149).
      if (values instanceof Float32Array) {
        return (row) => (valid(row) ? Number(values[offset + row].toPrecision(7)) : null);
      }
      return (row) => (valid(row) ? values[offset + row] : null);
    }
    case Type.Int: {
      const values = data.values as ArrayLike<number | bigint>;
      return (row) => (valid(row) ? Number(values[offset + row]) : null);
    }
    default:
      throw new Error(`no reader for Arrow type ${String((data as Data<DataType>).type)}`);
  }
}
