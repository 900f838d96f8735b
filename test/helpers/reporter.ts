import type { Writable } from 'node:stream';
import { Reporter, type ReporterOptions } from '../../src/ui/reporter.js';

/** How a command reports when no one watches: plain text, no colour, no spinner, nothing left out or added. */
const PLAIN = { json: false, verbose: false, quiet: false, interactive: false, color: false };

/** A Reporter writing to these streams, plain (PLAIN) unless `options` says otherwise. */
export function plainReporter(stdout: Writable, stderr: Writable, options: Partial<ReporterOptions> = {}): Reporter {
  return new Reporter({ ...PLAIN, stdout, stderr, ...options });
}
