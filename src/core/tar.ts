/**
 * The smallest tar the Engine API needs: one regular file (the lock's heartbeat, the lock image's only
 * file). POSIX ustar headers, written and read by hand rather than with a library for 40 lines.
 */
function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

export function tarFile(name: string, content: Buffer, mtimeMs = 0, mode = 0o644): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error('tar entry name too long');
  const header = Buffer.alloc(512, 0);
  header.write(name, 0, 'utf8');
  header.write(octal(mode, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(content.length, 12), 124, 'ascii');
  header.write(octal(Math.floor(mtimeMs / 1000), 12), 136, 'ascii');
  header.write('        ', 148, 'ascii'); // checksum is computed with this field as spaces
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512, 0);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024, 0)]);
}

/** A tar of several regular files, in order (a build context of a few small files). */
export function tarFiles(files: ReadonlyArray<{ name: string; content: Buffer; mode?: number }>, mtimeMs = 0): Buffer {
  // Each single-file tar ends with two zero blocks: drop them but for the last.
  const entries = files.map((f) => tarFile(f.name, f.content, mtimeMs, f.mode).subarray(0, -1024));
  return Buffer.concat([...entries, Buffer.alloc(1024, 0)]);
}

/** The content of the first regular file in a tar, or null. */
export function firstTarFile(tar: Buffer): Buffer | null {
  if (tar.length < 512) return null;
  const size = parseInt(tar.subarray(124, 136).toString('ascii').replace(/\0.*$/, '').trim() || '0', 8);
  const type = String.fromCharCode(tar[156] ?? 48);
  if (type !== '0' && type !== '\0') return null;
  return tar.subarray(512, 512 + size);
}

/** What a filter is asked about each entry of a tar: its full path (long names resolved) and type flag. */
export interface TarEntry {
  path: string;
  /** '0' file, '1' hard link, '2' symlink, '5' directory, …; '\0' is read as '0'. */
  type: string;
  linkpath: string;
  size: number;
}

/** A stream that is not a tar, or ends inside an entry. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

const BLOCK = 512;
/** Extended headers and GNU long names are held until their entry comes; no real one is anywhere near this. */
const MAX_META = 1024 * 1024;
/** Types whose size field does not announce data that follows (POSIX; GNU tar reads them so). */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);

function cString(block: Buffer, start: number, end: number): string {
  const field = block.subarray(start, end);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

function numeric(block: Buffer, start: number, end: number): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256 for values an octal field cannot hold.
    let value = first & 0x3f;
    for (let i = start + 1; i < end; i++) value = value * 256 + (block[i] ?? 0);
    return value;
  }
  const text = block
    .subarray(start, end)
    .toString('ascii')
    .replace(/[\0 ].*$/s, '')
    .trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] as number);
  return numeric(block, 148, 156) === sum;
}

/** pax records: "LEN key=value\n" repeated. */
export function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0 || at + length > data.length) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/**
 * Filters a tar as it streams: each entry is kept (its header blocks and data passed on as they arrive, slices
 * of the input, never gathered) or dropped with its data. Reads ustar names with their prefix, pax extended
 * headers ('x': path, linkpath, size) and GNU long names ('L', 'K'); global headers ('g') pass unchanged, and so
 * does everything from the end-of-archive blocks on, unless `dropEnd` asks for it to be left out (to join
 * archives into one: the caller then ends the whole with two zero blocks). Feed it with push(), then end().
 */
export class TarFilter {
  private readonly keep: (entry: TarEntry) => boolean;
  private readonly dropEnd: boolean;
  private carry: Buffer = Buffer.alloc(0);
  /** Bytes still to read of the current entry's data (padded), and whether they are passed on. */
  private remaining = 0;
  private passing = false;
  /** An extended header or long name being read: its type and the data gathered so far. */
  private meta: { type: string; size: number; parts: Buffer[]; got: number } | null = null;
  /** Blocks that belong to the next entry, held until it is decided. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private overrides: { path?: string; linkpath?: string; size?: number } = {};
  private trailer = false;
  /** Sees the data of each kept entry as it passes (padding included: the entry's size says where it ends). */
  private readonly onData: ((entry: TarEntry, piece: Buffer) => void) | undefined;
  private current: TarEntry | null = null;

  constructor(
    keep: (entry: TarEntry) => boolean,
    options: { dropEnd?: boolean; onData?: (entry: TarEntry, piece: Buffer) => void } = {},
  ) {
    this.keep = keep;
    this.dropEnd = options.dropEnd ?? false;
    this.onData = options.onData;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.trailer) {
        if (!this.dropEnd) out.push(at === 0 ? chunk : chunk.subarray(at));
        break;
      }
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        const piece = chunk.subarray(at, at + n);
        if (this.meta) this.gatherMeta(piece);
        else if (this.passing) {
          out.push(piece);
          if (this.onData && this.current) this.onData(this.current, piece);
        }
        this.remaining -= n;
        at += n;
        if (this.remaining === 0 && this.meta) this.finishMeta(out);
        continue;
      }
      // A header: whole 512-byte blocks, carried over from the previous chunk when split.
      let block: Buffer;
      if (this.carry.length > 0 || chunk.length - at < BLOCK) {
        const need = BLOCK - this.carry.length;
        const take = chunk.subarray(at, at + need);
        this.carry = Buffer.concat([this.carry, take]);
        at += take.length;
        if (this.carry.length < BLOCK) break;
        block = this.carry;
        this.carry = Buffer.alloc(0);
      } else {
        block = chunk.subarray(at, at + BLOCK);
        at += BLOCK;
      }
      this.header(block, out);
    }
    return out;
  }

  /** Throws when the tar stopped inside an entry. */
  end(): Buffer[] {
    if (!this.trailer && (this.remaining > 0 || this.carry.length > 0 || this.held.length > 0)) {
      throw new TarFormatError('the archive ends inside an entry');
    }
    return [];
  }

  private hold(block: Buffer): void {
    // A header block may be a slice of a chunk the caller reuses: held blocks are copied.
    this.held.push(Buffer.from(block));
    this.heldBytes += block.length;
    if (this.heldBytes > MAX_META) throw new TarFormatError('an extended tar header is too large');
  }

  private gatherMeta(piece: Buffer): void {
    const meta = this.meta as NonNullable<TarFilter['meta']>;
    this.hold(piece);
    if (meta.got < meta.size) {
      const useful = piece.subarray(0, meta.size - meta.got);
      meta.parts.push(useful);
      meta.got += useful.length;
    }
  }

  private finishMeta(out: Buffer[]): void {
    const meta = this.meta as NonNullable<TarFilter['meta']>;
    this.meta = null;
    const data = Buffer.concat(meta.parts);
    if (meta.type === 'g') {
      // Global: applies to the whole archive, never dropped with an entry.
      out.push(...this.held);
      this.held = [];
      this.heldBytes = 0;
    } else if (meta.type === 'x') {
      const records = paxRecords(data);
      const path = records.get('path');
      const linkpath = records.get('linkpath');
      const size = records.get('size');
      if (path !== undefined) this.overrides.path = path;
      if (linkpath !== undefined) this.overrides.linkpath = linkpath;
      if (size !== undefined) this.overrides.size = Number(size);
    } else {
      const name = cString(data, 0, data.length);
      if (meta.type === 'L') this.overrides.path = name;
      else this.overrides.linkpath = name;
    }
  }

  private header(block: Buffer, out: Buffer[]): void {
    if (block.every((b) => b === 0)) {
      if (!this.dropEnd) out.push(...this.held, block);
      this.held = [];
      this.trailer = true;
      return;
    }
    if (!checksumOk(block)) throw new TarFormatError('not a tar archive (a header checksum does not match)');
    const type = block[156] === 0 ? '0' : String.fromCharCode(block[156] as number);
    const size = numeric(block, 124, 136);
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META) throw new TarFormatError('an extended tar header is too large');
      this.hold(block);
      this.meta = { type, size, parts: [], got: 0 };
      this.remaining = padded(size);
      if (this.remaining === 0) this.finishMeta(out);
      return;
    }
    const magic = block.subarray(257, 263).toString('latin1');
    const name = cString(block, 0, 100);
    const prefix = magic === 'ustar\0' ? cString(block, 345, 500) : '';
    const entry: TarEntry = {
      path: this.overrides.path ?? (prefix ? `${prefix}/${name}` : name),
      type,
      linkpath: this.overrides.linkpath ?? cString(block, 157, 257),
      size: this.overrides.size ?? size,
    };
    this.overrides = {};
    this.passing = this.keep(entry);
    this.current = entry;
    if (this.passing) out.push(...this.held, block);
    this.held = [];
    this.heldBytes = 0;
    this.remaining = NO_DATA.has(type) ? 0 : padded(entry.size);
  }
}
