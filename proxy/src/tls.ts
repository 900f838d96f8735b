// TLS material per app: certificate and key files, loaded and checked before a route uses them.
import { readFileSync } from 'node:fs';
import tls, { type SecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';

export interface LoadedTls {
  context: SecureContext;
  cert: Buffer;
  key: Buffer;
  /** The certificate's expiry, for status. */
  validTo: string;
}

/** Read and check a certificate (PEM, chain allowed) and its key. Throws an Error that says which file and why. */
export function loadTls(certFile: string, keyFile: string): LoadedTls {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certFile);
  } catch (err) {
    throw new Error(`cannot read certificate ${certFile}: ${(err as Error).message}`, { cause: err });
  }
  try {
    key = readFileSync(keyFile);
  } catch (err) {
    throw new Error(`cannot read key ${keyFile}: ${(err as Error).message}`, { cause: err });
  }
  let validTo: string;
  try {
    validTo = new Date(new X509Certificate(cert).validTo).toISOString();
  } catch (err) {
    throw new Error(`${certFile} is not a PEM certificate: ${(err as Error).message}`, { cause: err });
  }
  try {
    // Refuses a key that does not match the certificate ("key values mismatch").
    return { context: tls.createSecureContext({ cert, key }), cert, key, validTo };
  } catch (err) {
    throw new Error(`certificate ${certFile} and key ${keyFile} cannot be used together: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Does `servername` (from SNI or Host) match one of `hosts` (exact, or `*.example.com` for one label)? */
export function hostMatches(hosts: string[], servername: string): 'exact' | 'wildcard' | null {
  const name = servername.toLowerCase();
  if (hosts.includes(name)) return 'exact';
  const dot = name.indexOf('.');
  if (dot > 0 && hosts.includes(`*${name.slice(dot)}`)) return 'wildcard';
  return null;
}
