import { describe, expect, it } from 'vitest';
import {
  jsonPath,
  JsonSyntaxError,
  LineCounter,
  parseJsonWithPositions,
  type Position,
} from '../../src/core/json-source.js';

/** The syntax error parseJsonWithPositions throws for text, as plain data. */
function syntaxError(text: string): { message: string; position: Position } {
  try {
    parseJsonWithPositions(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    return { message: error.message, position: error.position };
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

const at = (line: number, column: number): Position => ({ line, column });

describe('jsonPath', () => {
  it('appends an index in brackets', () => {
    expect(jsonPath('$', 0)).toBe('$[0]');
    expect(jsonPath('$.ports', 12)).toBe('$.ports[12]');
  });

  it('appends an identifier-like key with a dot', () => {
    expect(jsonPath('$', 'ports')).toBe('$.ports');
    expect(jsonPath('$.env', 'NODE_ENV')).toBe('$.env.NODE_ENV');
    expect(jsonPath('$', '$schema')).toBe('$.$schema');
    expect(jsonPath('$', '_x1')).toBe('$._x1');
  });

  it('quotes any other key in brackets', () => {
    expect(jsonPath('$.env', 'MY-VAR')).toBe('$.env["MY-VAR"]');
    expect(jsonPath('$', '1abc')).toBe('$["1abc"]');
    expect(jsonPath('$', '')).toBe('$[""]');
    expect(jsonPath('$', 'a b')).toBe('$["a b"]');
    expect(jsonPath('$', 'say "hi"')).toBe('$["say \\"hi\\""]');
  });
});

describe('parseJsonWithPositions', () => {
  it('gives the same value as JSON.parse', () => {
    const text = '{"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d\\n\\u00e9\\"", "e": {}}, "f": [], "g": 0}';
    expect(parseJsonWithPositions(text).value).toEqual(JSON.parse(text));
  });

  it('parses scalars at the top level', () => {
    expect(parseJsonWithPositions('42').value).toBe(42);
    expect(parseJsonWithPositions(' "x" ').value).toBe('x');
    expect(parseJsonWithPositions('null').value).toBeNull();
    expect(parseJsonWithPositions('\n\ttrue\r\n').value).toBe(true);
  });

  it('records the line and column where every value starts, by JSON path', () => {
    const text = ['{', '  "a": [1, {"b": null}],', '  "c": "x",', '  "my-key": {', '    "d": false', '  }', '}'].join(
      '\n',
    );
    expect(parseJsonWithPositions(text).positions).toEqual(
      new Map([
        ['$', at(1, 1)],
        ['$.a', at(2, 8)],
        ['$.a[0]', at(2, 9)],
        ['$.a[1]', at(2, 12)],
        ['$.a[1].b', at(2, 18)],
        ['$.c', at(3, 8)],
        ['$["my-key"]', at(4, 13)],
        ['$["my-key"].d', at(5, 10)],
      ]),
    );
  });

  it('counts positions after leading whitespace and on CRLF lines', () => {
    expect(parseJsonWithPositions('\r\n\r\n   {"a":\r\n 1}').positions).toEqual(
      new Map([
        ['$', at(3, 4)],
        ['$.a', at(4, 2)],
      ]),
    );
  });

  it('refuses a duplicate key at its line and column, naming its JSON path and where it first was', () => {
    expect(syntaxError('{"a": 1,\n "a": 2}')).toEqual({
      message: 'Duplicate key $.a (first at line 1, column 2)',
      position: at(2, 2),
    });
    expect(syntaxError('{"env": {\n  "X": "1",\n  "Y": "2",\n  "X": "3"}}')).toEqual({
      message: 'Duplicate key $.env.X (first at line 2, column 3)',
      position: at(4, 3),
    });
    // The same key in two different objects is no duplicate.
    expect(parseJsonWithPositions('[{"a": 1}, {"a": 2}]').value).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('accepts a leading byte-order mark, and counts columns without it', () => {
    const parsed = parseJsonWithPositions('\ufeff{"a": [1,\n 2]}');
    expect(parsed.value).toEqual({ a: [1, 2] });
    expect(parsed.positions.get('$')).toEqual(at(1, 1));
    expect(parsed.positions.get('$.a')).toEqual(at(1, 7));
    expect(parsed.positions.get('$.a[1]')).toEqual(at(2, 2));
    expect(syntaxError('\ufeff{,}')).toEqual({
      message: 'Expected a property name in double quotes, found ","',
      position: at(1, 2),
    });
    // Only at the very start: elsewhere it is not whitespace.
    expect(syntaxError(' \ufeff{}').message).toBe('Unexpected "\ufeff"');
  });

  it('keeps a "__proto__" key as data: the object keeps its prototype and nothing else changes', () => {
    const parsed = parseJsonWithPositions('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}');
    const value = parsed.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parsed.positions.get('$.__proto__')).toEqual(at(1, 15));
  });

  it('parses a document of about a megabyte, with a position for every value', () => {
    const env = Object.fromEntries(
      Array.from({ length: 20_000 }, (_, n) => [`VAR_${n}`, `value number ${n} ${'x'.repeat(20)}`]),
    );
    const text = JSON.stringify({ app: 'big', env }, null, 2);
    expect(text.length).toBeGreaterThan(900_000);
    const parsed = parseJsonWithPositions(text);
    expect(parsed.value).toEqual(JSON.parse(text));
    expect(parsed.positions.size).toBe(20_003);
    expect(parsed.positions.get('$.env.VAR_19999')).toEqual(at(20_003, 18));
  });

  it('refuses empty text', () => {
    expect(syntaxError('')).toEqual({ message: 'Unexpected end of file', position: at(1, 1) });
    expect(syntaxError('  \n ')).toEqual({ message: 'Unexpected end of file', position: at(2, 2) });
  });

  it('refuses a trailing comma in an object, pointing at the "}"', () => {
    expect(syntaxError('{\n  "a": 1,\n}')).toEqual({
      message: 'Expected a property name in double quotes, found "}"',
      position: at(3, 1),
    });
  });

  it('refuses a trailing comma in an array', () => {
    expect(syntaxError('[1, 2,]')).toEqual({ message: 'Unexpected "]"', position: at(1, 7) });
  });

  it('refuses unquoted and single-quoted keys', () => {
    expect(syntaxError('{a: 1}')).toEqual({
      message: 'Expected a property name in double quotes, found "a"',
      position: at(1, 2),
    });
    expect(syntaxError("{'a': 1}")).toEqual({
      message: 'Expected a property name in double quotes, found "\'"',
      position: at(1, 2),
    });
  });

  it('refuses a missing colon', () => {
    expect(syntaxError('{"a" 1}')).toEqual({
      message: 'Expected ":" after property name, found "1"',
      position: at(1, 6),
    });
  });

  it('refuses a missing comma between members and between items', () => {
    expect(syntaxError('{"a": 1\n "b": 2}')).toEqual({
      message: 'Expected "," or "}" in object, found "\\""',
      position: at(2, 2),
    });
    expect(syntaxError('[1 2]')).toEqual({ message: 'Expected "," or "]" in array, found "2"', position: at(1, 4) });
  });

  it('refuses unclosed objects and arrays at the end of the file', () => {
    expect(syntaxError('{"a": 1')).toEqual({
      message: 'Expected "," or "}" in object, found end of file',
      position: at(1, 8),
    });
    expect(syntaxError('[1')).toEqual({
      message: 'Expected "," or "]" in array, found end of file',
      position: at(1, 3),
    });
    expect(syntaxError('{')).toEqual({
      message: 'Expected a property name in double quotes, found end of file',
      position: at(1, 2),
    });
  });

  it('refuses an unterminated string, at its start or at the line break', () => {
    expect(syntaxError('{"a": "abc')).toEqual({ message: 'Unterminated string', position: at(1, 7) });
    expect(syntaxError('{"a": "ab\ncd"}')).toEqual({ message: 'Unterminated string', position: at(1, 10) });
  });

  it('refuses an invalid escape, pointing at the string', () => {
    expect(syntaxError('["ok", "\\x41"]')).toEqual({ message: 'Invalid escape in string', position: at(1, 8) });
  });

  it('refuses words and numbers JSON does not have', () => {
    expect(syntaxError('{"a": tru}')).toEqual({ message: 'Unexpected "t"', position: at(1, 7) });
    expect(syntaxError('[undefined]')).toEqual({ message: 'Unexpected "u"', position: at(1, 2) });
    expect(syntaxError('[.5]')).toEqual({ message: 'Unexpected "."', position: at(1, 2) });
    expect(syntaxError('[+1]')).toEqual({ message: 'Unexpected "+"', position: at(1, 2) });
    expect(syntaxError('[NaN]')).toEqual({ message: 'Unexpected "N"', position: at(1, 2) });
  });

  it('refuses comments', () => {
    expect(syntaxError('{\n  // note\n  "a": 1\n}')).toEqual({
      message: 'Expected a property name in double quotes, found "/"',
      position: at(2, 3),
    });
  });

  it('refuses anything after the document', () => {
    expect(syntaxError('{} {}')).toEqual({
      message: 'Unexpected "{" after the end of the document',
      position: at(1, 4),
    });
    expect(syntaxError('01')).toEqual({ message: 'Unexpected "1" after the end of the document', position: at(1, 2) });
    expect(syntaxError('truex')).toEqual({
      message: 'Unexpected "x" after the end of the document',
      position: at(1, 5),
    });
  });

  it('throws a JsonSyntaxError, which is an Error', () => {
    expect(() => parseJsonWithPositions('[')).toThrow(JsonSyntaxError);
    expect(() => parseJsonWithPositions('[')).toThrow(Error);
  });

  // BUG (src/core/json-source.ts): number literals are matched in a 64-character window, so a valid number
  // written with more than 64 characters is cut and the rest reported as "Unexpected ... after the end of the
  // document". JSON.parse accepts it.
  it('reads a number written with more than 64 characters', () => {
    const long = `0.${'1'.repeat(70)}`;
    expect(parseJsonWithPositions(long).value).toBe(JSON.parse(long));
  });
});

describe('LineCounter', () => {
  it('gives line and column of each offset', () => {
    const lines = new LineCounter('ab\ncd\n\nef');
    expect([0, 1, 2, 3, 6, 7, 9].map((o) => lines.at(o))).toEqual([
      at(1, 1),
      at(1, 2),
      at(1, 3),
      at(2, 1),
      at(3, 1),
      at(4, 1),
      at(4, 3),
    ]);
  });

  it('looks at each character once for offsets in increasing order: a document costs one pass, not one per value', () => {
    const text = 'x\n'.repeat(50_000);
    const lines = new LineCounter(text);
    for (let offset = 0; offset <= text.length; offset += 7) lines.at(offset);
    expect(lines.scanned).toBeLessThanOrEqual(text.length);
    expect(lines.at(text.length)).toEqual(at(50_001, 1));
  });

  it('counts again from the start for an offset behind the last one (an error pointing back)', () => {
    const lines = new LineCounter('a\nb\nc');
    expect(lines.at(4)).toEqual(at(3, 1));
    expect(lines.at(2)).toEqual(at(2, 1));
  });
});
