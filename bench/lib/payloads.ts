/** What one benchmark request looks like; every target is measured with the same set. */
export interface Payload {
  name: 'small' | '1k-response' | '1k-post';
  method: 'GET' | 'POST';
  path: string;
  /** Request body size in bytes (POST only). */
  requestBytes: number;
  /** The exact body the upstream answers with; a client that gets anything else counts a mismatch. */
  responseBody: string;
}

const SMALL_BODY = 'ok\n';
const KB_BODY = `${'x'.repeat(1023)}\n`;

export const PAYLOADS: readonly Payload[] = [
  { name: 'small', method: 'GET', path: '/small', requestBytes: 0, responseBody: SMALL_BODY },
  { name: '1k-response', method: 'GET', path: '/1k', requestBytes: 0, responseBody: KB_BODY },
  // The upstream checks the body arrived whole (400 otherwise), so a proxy can't pass by dropping it.
  { name: '1k-post', method: 'POST', path: '/post-1k', requestBytes: 1024, responseBody: SMALL_BODY },
];

export function requestBody(p: Payload): Buffer | undefined {
  return p.requestBytes > 0 ? Buffer.alloc(p.requestBytes, 'y') : undefined;
}

/**
 * Request headers every client sends: the Host the mesh routes on, and a content type for POSTs. No
 * content-length: the clients add it from the body (autocannon stalls if it is given twice).
 */
export function requestHeaders(p: Payload, host: string): Record<string, string> {
  return p.requestBytes > 0 ? { host, 'content-type': 'application/octet-stream' } : { host };
}
