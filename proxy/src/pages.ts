// The front door's own answers: small, self-contained pages with no assets, so they work when every app is down.

export type PageKind = 'not-found' | 'bad-gateway' | 'gateway-timeout' | 'paused' | 'unavailable' | 'bad-request';

const PAGES: Record<PageKind, { status: number; reason: string; title: string; text: string }> = {
  'not-found': { status: 404, reason: 'Not Found', title: 'Not found', text: 'No app is served at this address.' },
  'bad-gateway': {
    status: 502,
    reason: 'Bad Gateway',
    title: 'Bad gateway',
    text: 'The app did not answer. Try again in a moment.',
  },
  'gateway-timeout': {
    status: 504,
    reason: 'Gateway Timeout',
    title: 'Gateway timeout',
    text: 'The app took too long to answer.',
  },
  paused: {
    status: 503,
    reason: 'Service Unavailable',
    title: 'Paused',
    text: 'This app is paused. It will be back soon.',
  },
  unavailable: {
    status: 503,
    reason: 'Service Unavailable',
    title: 'Unavailable',
    text: 'This app has no release to serve right now.',
  },
  'bad-request': {
    status: 400,
    reason: 'Bad Request',
    title: 'Bad request',
    text: 'The request could not be understood.',
  },
};

export interface Page {
  status: number;
  /** The reason phrase of the status line. */
  reason: string;
  headers: Record<string, string>;
  body: string;
}

export function page(kind: PageKind): Page {
  const { status, reason, title, text } = PAGES[kind];
  const body =
    `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${title}</title>` +
    `<style>body{font-family:system-ui,sans-serif;margin:4em auto;max-width:32em;color:#333}</style></head>` +
    `<body><h1>${status} ${title}</h1><p>${text}</p></body></html>\n`;
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
  };
  if (status === 503) headers['retry-after'] = '5';
  return { status, reason, headers, body };
}

/** The page as a whole raw HTTP/1.1 response that closes the connection (for sockets with no ServerResponse). */
export function rawPage(kind: PageKind): string {
  const { status, reason, headers, body } = page(kind);
  let text = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [name, value] of Object.entries({ ...headers, connection: 'close' })) text += `${name}: ${value}\r\n`;
  return `${text}\r\n${body}`;
}
