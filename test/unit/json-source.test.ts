import { describe, expect, it } from 'vitest';
import { jsonPath, JsonSyntaxError, parseJsonWithPositions, type Position } from '../../src/core/json-source.js';

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
    const text = ['{', '  "a": [1, {"b": null}],', '  "c": "x",', '  "my-key": {', '    "d": false', '  }', '}'].join('\n');
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

  it('keeps the last of duplicate keys, and its position', () => {
    const parsed = parseJsonWithPositions('{"a": 1,\n "a": 2}');
    expect(parsed.value).toEqual({ a: 2 });
    expect(parsed.positions.get('$.a')).toEqual(at(2, 7));
  });

  it('refuses empty text', () => {
    expect(syntaxError('')).toEqual({ message: 'Unexpected end of file', position: at(1, 1) });
    expect(syntaxError('  \n ')).toEqual({ message: 'Unexpected end of file', position: at(2, 2) });
  });

  it('refuses a trailing comma in an object, pointing at the "}"', () => {
    expect(syntaxError('{\n  "a": 1,\n}')).toEqual({ message: 'Expected a property name in double quotes, found "}"', position: at(3, 1) });
  });

  it('refuses a trailing comma in an array', () => {
    expect(syntaxError('[1, 2,]')).toEqual({ message: 'Unexpected "]"', position: at(1, 7) });
  });

  it('refuses unquoted and single-quoted keys', () => {
    expect(syntaxError('{a: 1}')).toEqual({ message: 'Expected a property name in double quotes, found "a"', position: at(1, 2) });
    expect(syntaxError("{'a': 1}")).toEqual({ message: 'Expected a property name in double quotes, found "\'"', position: at(1, 2) });
  });

  it('refuses a missing colon', () => {
    expect(syntaxError('{"a" 1}')).toEqual({ message: 'Expected ":" after property name, found "1"', position: at(1, 6) });
  });

  it('refuses a missing comma between members and between items', () => {
    expect(syntaxError('{"a": 1\n "b": 2}')).toEqual({ message: 'Expected "," or "}" in object, found "\\""', position: at(2, 2) });
    expect(syntaxError('[1 2]')).toEqual({ message: 'Expected "," or "]" in array, found "2"', position: at(1, 4) });
  });

  it('refuses unclosed objects and arrays at the end of the file', () => {
    expect(syntaxError('{"a": 1')).toEqual({ message: 'Expected "," or "}" in object, found end of file', position: at(1, 8) });
    expect(syntaxError('[1')).toEqual({ message: 'Expected "," or "]" in array, found end of file', position: at(1, 3) });
    expect(syntaxError('{')).toEqual({ message: 'Expected a property name in double quotes, found end of file', position: at(1, 2) });
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
    expect(syntaxError('{\n  // note\n  "a": 1\n}')).toEqual({ message: 'Expected a property name in double quotes, found "/"', position: at(2, 3) });
  });

  it('refuses anything after the document', () => {
    expect(syntaxError('{} {}')).toEqual({ message: 'Unexpected "{" after the end of the document', position: at(1, 4) });
    expect(syntaxError('01')).toEqual({ message: 'Unexpected "1" after the end of the document', position: at(1, 2) });
    expect(syntaxError('truex')).toEqual({ message: 'Unexpected "x" after the end of the document', position: at(1, 5) });
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
