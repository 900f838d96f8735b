import { Help, type Command } from 'commander';
import type { Handler } from './handler.js';
import { globalOptions, type GlobalOptions } from './option-groups.js';
import { addOptions, readOptions, type OptionSpecs, type OptionsOf } from './options.js';

/** What runs a command once it is parsed (main.ts): sets up the context, loads the handler, calls it. */
export type Run = <O>(load: () => Promise<Handler<O>>, args: string[], options: GlobalOptions & O) => Promise<void>;

/** A command's argument, [name, description]: `<required>`, `[optional]`, `<many...>`. */
export type ArgumentSpec = [name: string, description?: string];

/** A command as NAME.command.ts declares it. */
export interface CommandDeclaration<S extends OptionSpecs> {
  name: string;
  aliases?: string[];
  /** The line in the parent's list of commands. */
  summary: string;
  /** The text at the top of the command's --help (none when not given). */
  description?: string;
  args?: ArgumentSpec[];
  options: S;
  /** Shown after the options in --help, before the examples. */
  help?: string;
  /** Command lines shown under "Examples:" at the end of --help, one each (a `# comment` may follow one). */
  examples?: string[];
  /** Imports the handler's module: only when this command runs, so --help and ls load no Docker, Git or prompts. */
  load: () => Promise<Handler<OptionsOf<S>>>;
}

/** A declared command (or group of commands), ready to be attached to its parent. */
export interface Registration {
  attach(parent: Command, run: Run): Command;
}

export function defineCommand<S extends OptionSpecs>(d: CommandDeclaration<S>): Registration {
  return {
    attach(parent, run) {
      const cmd = parent.command(d.name);
      for (const alias of d.aliases ?? []) cmd.alias(alias);
      cmd.summary(d.summary);
      if (d.description !== undefined) cmd.description(prose(d.description));
      for (const [name, description] of d.args ?? []) cmd.argument(name, description);
      addOptions(cmd, d.options);
      if (d.help !== undefined || d.examples !== undefined)
        cmd.addHelpText('after', (context) =>
          helpAfterOptions(d, context.command.configureOutput().getOutHelpWidth?.() ?? 80),
        );
      cmd.action(async () => {
        const args = cmd.processedArgs.flat().filter((a): a is string => typeof a === 'string');
        const raw = cmd.optsWithGlobals();
        await run(d.load, args, { ...readOptions(globalOptions, raw), ...readOptions(d.options, raw) });
      });
      return cmd;
    },
  };
}

/**
 * What --help shows after the options: the declaration's text (wrapped to the help's width, as commander wraps
 * the rest), then its examples (as they are: command lines), each part after a blank line.
 */
function helpAfterOptions(d: { help?: string; examples?: string[] }, width: number): string {
  const parts = [
    d.help && new Help().boxWrap(prose(d.help), width),
    d.examples && ['Examples:', ...d.examples.map((e) => `  ${e}`)].join('\n'),
  ];
  return parts
    .filter((p) => p !== undefined)
    .map((p) => `\n${p}`)
    .join('\n');
}

/**
 * Help text as prose: a line break inside a paragraph of the declaration is a space (commander wraps the text to
 * the terminal's width, and a break of the source's would cut its lines short); a blank line still parts paragraphs,
 * and an indented line (a table of the text's own) keeps its break.
 */
export function prose(text: string): string {
  return text.replace(/([^\n])\n(?=[^\n ])/g, '$1 ');
}

/** A command of commands (`deploy lock status`, `deploy config set`). */
export function defineGroup(d: {
  name: string;
  summary: string;
  description?: string;
  commands: Registration[];
}): Registration {
  return {
    attach(parent, run) {
      const group = parent.command(d.name).summary(d.summary);
      if (d.description !== undefined) group.description(prose(d.description));
      for (const c of d.commands) c.attach(group, run);
      return group;
    },
  };
}
