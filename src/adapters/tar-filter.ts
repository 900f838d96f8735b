import { Transform } from 'node:stream';
import { TarFilter, type TarEntry } from '../core/tar.js';

/**
 * A tar stream with the entries `keep` refuses taken out, as it flows: headers are read, data is passed on or
 * skipped chunk by chunk, so memory stays flat whatever the size of the files. `dropEnd` leaves out the
 * end-of-archive blocks, for a tar that is to be followed by another.
 */
export function tarFilter(
  keep: (entry: TarEntry) => boolean,
  options: { dropEnd?: boolean; onData?: (entry: TarEntry, piece: Buffer) => void } = {},
): Transform {
  const filter = new TarFilter(keep, options);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        for (const piece of filter.push(chunk)) this.push(piece);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        for (const piece of filter.end()) this.push(piece);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}
