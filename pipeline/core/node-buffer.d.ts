// Node's Buffer has fast UTF-8 entry points that skip encoding-name parsing; they are
// public on Buffer.prototype (used by Node itself) but missing from @types/node.
declare global {
  interface Buffer {
    utf8Write(string: string, offset?: number, length?: number): number;
    utf8Slice(start?: number, end?: number): string;
  }
}
export {};
