/**
 * The few bytes of protobuf this tool reads and writes by hand (BuildKit's build progress, the build session's
 * secrets and health messages), rather than a protobuf library and its schemas for a handful of fields.
 */

/** Reads protobuf fields: [field number, wire type, value] where value is a number or the bytes. */
export function* protobufFields(buf: Buffer): Generator<[number, number, number | Buffer]> {
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated protobuf');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield [field, wire, varint()];
    else if (wire === 2) {
      const len = varint();
      yield [field, wire, buf.subarray(i, i + len)];
      i += len;
    } else if (wire === 1) {
      yield [field, wire, buf.subarray(i, i + 8)];
      i += 8;
    } else if (wire === 5) {
      yield [field, wire, buf.subarray(i, i + 4)];
      i += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let x = value;
  do {
    out.push((x % 128) | (x >= 128 ? 0x80 : 0));
    x = Math.floor(x / 128);
  } while (x > 0);
  return Buffer.from(out);
}

/** One field of wire type 2 (string, bytes, message): key, length, bytes. */
export function protobufBytesField(field: number, data: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(data.length), data]);
}

/** One field of wire type 0 (int, bool, enum). */
export function protobufVarintField(field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}
