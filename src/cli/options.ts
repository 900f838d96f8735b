import { Option, type Command } from 'commander';
import { collect } from './parse.js';

/**
 * Options declared as data: each command's options are an object whose keys are the names commander gives the
 * values (`--allow-dirty` is `allowDirty`, `--no-cache` is `cache`), so the type a handler receives is derived
 * from the declaration, and the values are checked against it when the command runs (no casts).
 */

/** `--pull`: true when given. */
export interface FlagSpec {
  kind: 'flag';
  flags: string;
  description: string;
}
/** `--no-cache`: true unless given. */
export interface NegatedSpec {
  kind: 'negated';
  flags: string;
  description: string;
}
/** `--secret` and `--no-secret`: true, false, or not given. */
export interface ToggleSpec {
  kind: 'toggle';
  flags: string;
  description: string;
  negation: { flags: string; description: string };
}
/** `--ref <ref>`: a string; with a default, always one. */
export interface ValueSpec<D extends string | undefined> {
  kind: 'value';
  flags: string;
  description: string;
  default: D;
}
/** `-p, --port <x>` (repeatable): every value given, in order. */
export interface ListSpec {
  kind: 'list';
  flags: string;
  description: string;
}

export type OptionSpec = FlagSpec | NegatedSpec | ToggleSpec | ValueSpec<string | undefined> | ListSpec;
export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S extends NegatedSpec
  ? boolean
  : S extends FlagSpec | ToggleSpec
    ? boolean | undefined
    : S extends ListSpec
      ? string[] | undefined
      : S extends ValueSpec<infer D>
        ? D extends string
          ? string
          : string | undefined
        : never;

/** The values a command's options parse to. */
export type OptionsOf<S extends OptionSpecs> = { [K in keyof S]: ValueOf<S[K]> };

export const flag = (flags: string, description: string): FlagSpec => ({ kind: 'flag', flags, description });
export const negated = (flags: string, description: string): NegatedSpec => ({ kind: 'negated', flags, description });
export const toggle = (
  flags: string,
  description: string,
  negationFlags: string,
  negationDescription: string,
): ToggleSpec => ({
  kind: 'toggle',
  flags,
  description,
  negation: { flags: negationFlags, description: negationDescription },
});
export const list = (flags: string, description: string): ListSpec => ({ kind: 'list', flags, description });
export function value(flags: string, description: string): ValueSpec<undefined>;
export function value(flags: string, description: string, defaultValue: string): ValueSpec<string>;
export function value(flags: string, description: string, defaultValue?: string): ValueSpec<string | undefined> {
  return { kind: 'value', flags, description, default: defaultValue };
}

function commanderOptions(spec: OptionSpec): Option[] {
  const option = new Option(spec.flags, spec.description);
  if (spec.kind === 'list') option.argParser(collect);
  if (spec.kind === 'value' && spec.default !== undefined) option.default(spec.default);
  return spec.kind === 'toggle' ? [option, new Option(spec.negation.flags, spec.negation.description)] : [option];
}

/** Adds the options to the command, in their order; a key that is not commander's name for the option is a bug. */
export function addOptions(cmd: Command, specs: OptionSpecs): Command {
  for (const [key, spec] of Object.entries(specs)) {
    for (const option of commanderOptions(spec)) {
      if (option.attributeName() !== key)
        throw new Error(
          `The option ${option.flags} is declared as "${key}", but its value is named "${option.attributeName()}".`,
        );
      cmd.addOption(option);
    }
  }
  return cmd;
}

function fits(spec: OptionSpec, v: unknown): boolean {
  switch (spec.kind) {
    case 'flag':
    case 'toggle':
      return v === undefined || typeof v === 'boolean';
    case 'negated':
      return typeof v === 'boolean';
    case 'value':
      return typeof v === 'string' || (v === undefined && spec.default === undefined);
    case 'list':
      return v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  }
}

function conforms<S extends OptionSpecs>(
  specs: S,
  raw: Record<string, unknown>,
): raw is Record<string, unknown> & OptionsOf<S> {
  return Object.entries(specs).every(([key, spec]) => fits(spec, raw[key]));
}

/** The parsed values (commander's `opts()`), checked against their declaration and typed by it. */
export function readOptions<S extends OptionSpecs>(specs: S, raw: Record<string, unknown>): OptionsOf<S> {
  if (!conforms(specs, raw)) {
    const wrong = Object.entries(specs)
      .filter(([key, spec]) => !fits(spec, raw[key]))
      .map(([key]) => key);
    throw new Error(`Option values of the wrong type: ${wrong.join(', ')}.`);
  }
  return raw;
}
