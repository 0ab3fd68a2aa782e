/**
 * Command-line flags generated from option schemas, so every YAML key has a flag with
 * the same meaning, default and help text.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type * as z from 'zod';
import { describeOptions, type OptionInfo } from '../core/config.js';

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || Number.isNaN(n)) throw new InvalidArgumentError(`not a number: "${value}"`);
  return n;
}

const parseList = (value: string, previous: string[] | undefined) => [
  ...(previous ?? []),
  ...value.split(',').map((s) => s.trim()).filter(Boolean),
];

function helpText(info: OptionInfo): string {
  const shown = info.default === undefined ? '' : Array.isArray(info.default) ? info.default.join(',') : String(info.default);
  return `${info.description}${shown !== '' && info.kind !== 'boolean' ? ` (default: ${shown})` : ''}`;
}

function toOption(info: OptionInfo): Option {
  switch (info.kind) {
    case 'boolean':
      return info.default === true
        ? new Option(`--no-${info.flag.slice(2)}`, `${info.description} (on by default; this turns it off)`)
        : new Option(info.flag, info.description);
    case 'number':
      return new Option(`${info.flag} <${info.value ?? 'n'}>`, helpText(info)).argParser(parseNumber);
    case 'enum':
      return new Option(`${info.flag} <${info.choices?.join('|')}>`, helpText(info)).choices(info.choices ?? []);
    case 'list':
      return new Option(`${info.flag} <${info.value ?? 'a,b,...'}>`, helpText(info)).argParser(parseList);
    case 'string':
      // A value shown in brackets (`.meta({ value: '[hosts]' })`) may be left out: the bare flag gives `true`.
      return new Option(`${info.flag} ${info.value?.startsWith('[') ? info.value : `<${info.value ?? 'value'}>`}`, helpText(info));
  }
}

/**
 * Add one flag per option of `schema`; returns a function that picks the given flags out of commander's values.
 * With `required`, options without a default must be given as flags (for commands that read no --config file).
 */
export function addSchemaFlags(
  cmd: Command,
  schema: z.ZodObject,
  group?: string,
  { required = false }: { required?: boolean } = {},
): (values: Record<string, unknown>) => Record<string, unknown> {
  const infos = describeOptions(schema);
  const names: { key: string; attr: string; negatable: boolean }[] = [];
  for (const info of infos) {
    const opt = toOption(info);
    if (group) opt.helpGroup(group);
    if (required && info.required) opt.makeOptionMandatory();
    cmd.addOption(opt);
    names.push({ key: info.key, attr: opt.attributeName(), negatable: opt.negate });
  }
  return (values) => {
    const picked: Record<string, unknown> = {};
    for (const { key, attr, negatable } of names) {
      const v = values[attr];
      // commander gives `--no-x` flags a default of true; only an explicit --no-x counts as given.
      if (v !== undefined && !(negatable && v === true)) picked[key] = v;
    }
    return picked;
  };
}
