import type { Context } from '../context.js';
import type { GlobalOptions } from './program.js';

/** What a command handler gets: the context, its arguments, and its options merged with the global ones. */
export type Handler = (ctx: Context, args: string[], options: GlobalOptions & Record<string, unknown>) => Promise<number | void>;
