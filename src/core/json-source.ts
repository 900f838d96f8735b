/**
 * A small JSON parser that remembers where each value starts, so a message about deploy.json can say
 * "$.ports[1] (line 7)". JSON.parse gives values but no positions.
 */

export interface Position {
  line: number;
  column: number;
}

export class JsonSyntaxError extends Error {
  readonly position: Position;
  constructor(message: string, position: Position) {
    super(message);
    this.position = position;
  }
}

export interface ParsedJson {
  value: unknown;
  /** Position of the value at each JSON path ("$", "$.ports", "$.ports[1]", "$.env.KEY"). */
  positions: Map<string, Position>;
}

export function jsonPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Line and column of an offset in text, for offsets asked in increasing order (as a parser reaches them): each
 * call counts on from the previous one, so positions for a whole document cost one pass over it. An offset
 * before the last one (an error pointing back at a token's start) counts again from the start, once.
 */
export class LineCounter {
  /** Characters looked at so far: a test can check that a document costs one pass. */
  scanned = 0;
  private index: number;
  private line = 1;
  private column = 1;

  constructor(
    private readonly text: string,
    private readonly start = 0,
  ) {
    this.index = start;
  }

  at(offset: number): Position {
    const target = Math.min(offset, this.text.length);
    if (target < this.index) {
      this.index = this.start;
      this.line = 1;
      this.column = 1;
    }
    const text = this.text;
    for (let k = this.index; k < target; k++) {
      if (text.charCodeAt(k) === 10) {
        this.line++;
        this.column = 1;
      } else {
        this.column++;
      }
    }
    this.scanned += Math.max(0, target - this.index);
    this.index = Math.max(this.index, target);
    return { line: this.line, column: this.column };
  }
}

/** Keys that would reach an object's prototype if assigned: refused wherever deploy.json has a name. */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

export function parseJsonWithPositions(text: string): ParsedJson {
  // A leading byte-order mark (editors on Windows write one) is not part of the document.
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let i = bom;
  const positions = new Map<string, Position>();
  const lines = new LineCounter(text, bom);
  const positionAt = (index: number): Position => lines.at(index);
  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(message, positionAt(at));
  };
  const skip = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
  };
  const describe = (index: number) => (index >= text.length ? 'end of file' : JSON.stringify(text[index]));
  /** After an object's member or an array's element: true at its closing bracket, false after a comma (both consumed). */
  const endsAfterItem = (close: '}' | ']', what: string): boolean => {
    skip();
    const c = text[i];
    if (c !== ',' && c !== close) fail(`Expected "," or "${close}" in ${what}, found ${describe(i)}`);
    i++;
    return c === close;
  };

  const parseString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        try {
          return JSON.parse(text.slice(start, i)) as string;
        } catch {
          return fail('Invalid escape in string', start);
        }
      }
      if (c === '\\') i += 2;
      else if (c === '\n') fail('Unterminated string');
      else i++;
    }
    return fail('Unterminated string', start);
  };

  const parseValue = (path: string): unknown => {
    skip();
    positions.set(path, positionAt(i));
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      const keys = new Map<string, Position>();
      for (;;) {
        skip();
        if (text[i] !== '"') fail(`Expected a property name in double quotes, found ${describe(i)}`);
        const keyStart = i;
        const key = parseString();
        const keyAt = positionAt(keyStart);
        const first = keys.get(key);
        if (first) {
          throw new JsonSyntaxError(
            `Duplicate key ${jsonPath(path, key)} (first at line ${first.line}, column ${first.column})`,
            keyAt,
          );
        }
        keys.set(key, keyAt);
        skip();
        if (text[i] !== ':') fail(`Expected ":" after property name, found ${describe(i)}`);
        i++;
        // Defined, not assigned: a "__proto__" key is kept as data (and refused by the settings check), never
        // turned into the object's prototype.
        Object.defineProperty(obj, key, {
          value: parseValue(jsonPath(path, key)),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (endsAfterItem('}', 'object')) return obj;
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(jsonPath(path, arr.length)));
        if (endsAfterItem(']', 'array')) return arr;
      }
    }
    if (c === '"') return parseString();
    const literal = /(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/y;
    literal.lastIndex = i;
    const match = literal.exec(text);
    if (!match) return fail(`Unexpected ${describe(i)}`);
    i += match[0].length;
    return JSON.parse(match[0]) as unknown;
  };

  const value = parseValue('$');
  skip();
  if (i < text.length) fail(`Unexpected ${describe(i)} after the end of the document`);
  return { value, positions };
}
