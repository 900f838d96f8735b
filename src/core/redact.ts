/** Removes a password or token from a URL's user part, so a clone URL can be shown and recorded. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) {
      u.password = '';
      return u.toString().replace(/^([a-z][a-z0-9+.-]*:\/\/[^@/]*)@/i, '$1:***@');
    }
    if (u.username && /^(https?|ftp)s?:$/.test(u.protocol)) {
      // https://TOKEN@host/... carries the token as the user name
      u.username = '***';
      return u.toString();
    }
    return url;
  } catch {
    return url;
  }
}

/** Replaces every occurrence of each secret value in text; the last guard for messages built from engine output. */
export function redactValues(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4) out = out.split(s).join('********');
  }
  return out;
}
