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

export function parseJsonWithPositions(text: string): ParsedJson {
  let i = 0;
  const positions = new Map<string, Position>();

  const positionAt = (index: number): Position => {
    let line = 1;
    let column = 1;
    for (let k = 0; k < index && k < text.length; k++) {
      if (text[k] === '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    return { line, column };
  };
  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(message, positionAt(at));
  };
  const skip = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
  };
  const describe = (index: number) => (index >= text.length ? 'end of file' : JSON.stringify(text[index]));

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
      for (;;) {
        skip();
        if (text[i] !== '"') fail(`Expected a property name in double quotes, found ${describe(i)}`);
        const key = parseString();
        skip();
        if (text[i] !== ':') fail(`Expected ":" after property name, found ${describe(i)}`);
        i++;
        obj[key] = parseValue(jsonPath(path, key));
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail(`Expected "," or "}" in object, found ${describe(i)}`);
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
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail(`Expected "," or "]" in array, found ${describe(i)}`);
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
