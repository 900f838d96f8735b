import type { Context } from '../context.js';
import type { GlobalOptions } from './option-groups.js';

/**
 * What a command handler gets: the context, its arguments, and its options (typed by the command's
 * declaration in NAME.command.ts) merged with the global ones.
 */
export type Handler<O> = (ctx: Context, args: string[], options: GlobalOptions & O) => Promise<number | void>;
