import http2 from 'node:http2';

/**
 * The HTTP/2 listener's request class (node:http2's `Http2ServerRequest` option): counts body bytes as the
 * stream pushes them, for telemetry's bytes_received, without a listener or closure per request.
 */
export class CountingHttp2ServerRequest extends http2.Http2ServerRequest {
  bytesReceived = 0;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null && chunk !== undefined) this.bytesReceived += (chunk as Buffer).length;
    return super.push(chunk, encoding);
  }
}
