/**
 * Column filters of the document list: `lang = pt`, `quality_hq > 0.8`, `domain != news`,
 * `url ~ wiki` (contains). A `reason` filter matches the reason's name, the part the stage
 * statistics count (`dup-lines` matches "dup-lines: 0.750 (needs <= 0.3)").
 */
import { UserError } from '../core/errors.js';
import type { Doc, Value } from '../core/schema.js';

export const OPERATORS = ['=', '!=', '>=', '<=', '>', '<', '~'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Filter {
  column: string;
  op: Operator;
  value: string;
}

const TERM = /^\s*([A-Za-z_][\w.-]*)\s*(==|!=|>=|<=|=|>|<|~)\s*(.*?)\s*$/;

export function parseFilter(term: string): Filter {
  const m = TERM.exec(term);
  if (!m) throw new UserError(`filter "${term}": expected COLUMN OP VALUE, OP one of ${OPERATORS.join(' ')} (e.g. lang = pt, quality_hq > 0.8)`);
  return { column: m[1], op: (m[2] === '==' ? '=' : m[2]) as Operator, value: m[3] };
}

/** The reason's name: what comes before the detail ("dup-lines: 0.750 ..." -> "dup-lines"). */
export const reasonName = (reason: string): string => {
  const at = reason.indexOf(': ');
  return at < 0 ? reason : reason.slice(0, at);
};

function compare(v: Value | undefined, f: Filter): boolean {
  if (v === null || v === undefined) return f.op === '!=' ? f.value !== '' && f.value !== 'null' : f.value === 'null' || (f.op === '=' && f.value === '');
  if (f.op === '~') return String(v).toLowerCase().includes(f.value.toLowerCase());
  const asNumber = Number(f.value);
  const numeric = typeof v === 'number' && f.value !== '' && Number.isFinite(asNumber);
  const a: number | string = numeric ? (v as number) : String(v);
  const b: number | string = numeric ? asNumber : f.value;
  switch (f.op) {
    case '=':
      return f.column === 'reason' ? a === b || reasonName(String(a)) === b : a === b;
    case '!=':
      return f.column === 'reason' ? a !== b && reasonName(String(a)) !== b : a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

export const matches = (doc: Doc, filters: readonly Filter[]): boolean => filters.every((f) => compare(doc[f.column], f));

export const filterText = (f: Filter): string => `${f.column} ${f.op} ${f.value}`;
