/**
 * Compression of shard bodies: the Arrow IPC format's own buffer compression, so a compressed
 * shard is still a standard Arrow IPC file (pyarrow, polars, DuckDB and apache-arrow read it).
 *
 * Each body buffer of a record batch is an int64 (little-endian) holding its uncompressed
 * length, or -1 when it is stored as is, followed by a zstd or an LZ4 frame; the batch's
 * message names the codec (`BodyCompression`).
 *
 * apache-arrow 21.2.0 writes the *compressed* length in that prefix, so every reader but
 * apache-arrow's own (which ignores the prefix) rejects its compressed files: pyarrow 25 (and
 * DuckDB through it) stops with "ZSTD decompression failed: Destination buffer is too small"
 * or "Lz4 decompression buffer too small", polars with "offsets must not exceed the values
 * length". `fixLengthPrefixes` writes the right length; the rest of apache-arrow's writer
 * (padding, alignment, the BodyCompression message) is correct, as the tests show.
 *
 * The codecs are native Node-API modules with prebuilt binaries published on npm for each
 * platform (no compiler, no download at install): `@toondepauw/node-zstd` (zstd's C library)
 * and `lz4-napi` (lz4_flex, frame format). Both are loaded only when a shard needs them.
 */
import { createRequire } from 'node:module';
import { CompressionType, compressionRegistry } from 'apache-arrow';

export const COMPRESSIONS = ['zstd', 'lz4', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];
/** The default, by measurement (README, "Shards"): smallest files, and the fastest end-to-end write. */
export const DEFAULT_COMPRESSION: Compression = 'zstd';
/** zstd's level 1: level 3 saves ~10% more bytes but writes at about half the speed (README, "Shards"). */
export const ZSTD_LEVEL = 1;

interface Codec {
  encode(data: Uint8Array): Uint8Array;
  decode(data: Uint8Array): Uint8Array;
}

const require = createRequire(import.meta.url);
const asBuffer = (data: Uint8Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

function zstdCodec(): Codec {
  const { Encoder, Decoder } = require('@toondepauw/node-zstd') as typeof import('@toondepauw/node-zstd');
  const encoder = new Encoder(ZSTD_LEVEL);
  const decoder = new Decoder();
  return { encode: (data) => encoder.encodeSync(asBuffer(data)), decode: (data) => decoder.decodeSync(asBuffer(data)) };
}

function lz4Codec(): Codec {
  const lz4 = require('lz4-napi') as typeof import('lz4-napi');
  return { encode: (data) => lz4.compressFrameSync(asBuffer(data)), decode: (data) => lz4.decompressFrameSync(asBuffer(data)) };
}

const TYPES: Record<Exclude<Compression, 'none'>, CompressionType> = { zstd: CompressionType.ZSTD, lz4: CompressionType.LZ4_FRAME };
const FACTORIES: Record<Exclude<Compression, 'none'>, () => Codec> = { zstd: zstdCodec, lz4: lz4Codec };
const codecs = new Map<Compression, Codec>();
const codec = (c: Exclude<Compression, 'none'>): Codec => {
  let found = codecs.get(c);
  if (!found) codecs.set(c, (found = FACTORIES[c]()));
  return found;
};
const writing = new Set<Compression>();
let reading = false;

/** Register `compression`'s codec with apache-arrow for writing; returns its IPC type, null for none. */
export function useCompression(compression: Compression): CompressionType | null {
  if (compression === 'none') return null;
  if (!writing.has(compression)) {
    compressionRegistry.set(TYPES[compression], codec(compression));
    writing.add(compression);
  }
  return TYPES[compression];
}

/**
 * Let apache-arrow's reader decode every codec. A codec's native module loads when a shard
 * first needs it, so uncompressed shards read without either.
 */
export function useAllDecoders(): void {
  if (reading) return;
  reading = true;
  for (const c of ['zstd', 'lz4'] as const) {
    if (!writing.has(c)) compressionRegistry.set(TYPES[c], { decode: (data) => codec(c).decode(data) });
  }
}

/** The compression a shard file's batches use, by the codec type of its record batch messages. */
export function compressionName(type: CompressionType | null | undefined): Compression {
  if (type === CompressionType.ZSTD) return 'zstd';
  if (type === CompressionType.LZ4_FRAME) return 'lz4';
  return 'none';
}

/**
 * Correct the buffers apache-arrow's `_compressBodyBuffers` returns: pairs of (8-byte prefix,
 * body) per input buffer, two empty arrays for an empty one. A prefix other than -1 becomes the
 * uncompressed length of its input buffer, as the IPC format requires.
 */
export function fixLengthPrefixes(inputs: readonly ArrayBufferView[], output: Uint8Array[]): void {
  for (let i = 0; i < inputs.length; i++) {
    const prefix = output[2 * i];
    if (prefix.byteLength !== 8) continue;
    const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
    if (view.getBigInt64(0, true) !== -1n) view.setBigInt64(0, BigInt(inputs[i].byteLength), true);
  }
}
