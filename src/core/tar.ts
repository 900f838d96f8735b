/**
 * The smallest tar the Engine API needs: one regular file (the lock's heartbeat, the lock image's only
 * file). POSIX ustar headers, written and read by hand rather than with a library for 40 lines.
 */
function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

export function tarFile(name: string, content: Buffer, mtimeMs = 0): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error('tar entry name too long');
  const header = Buffer.alloc(512, 0);
  header.write(name, 0, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
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

/** The content of the first regular file in a tar, or null. */
export function firstTarFile(tar: Buffer): Buffer | null {
  if (tar.length < 512) return null;
  const size = parseInt(tar.subarray(124, 136).toString('ascii').replace(/\0.*$/, '').trim() || '0', 8);
  const type = String.fromCharCode(tar[156] ?? 48);
  if (type !== '0' && type !== '\0') return null;
  return tar.subarray(512, 512 + size);
}
