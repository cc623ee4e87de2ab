import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { errorMessage, json, startReplyServer, type Reply, type ReplyServer } from '../http/reply-server.js';
import { decodeOtlpTraces, OtlpRequestError } from './otlp-json.js';
import type { TraceStore } from './trace-store.js';

/** An export larger than this is refused (413): the sidecars' batches are far smaller. */
const MAX_BODY_BYTES = 8 << 20;

export type CollectorServer = ReplyServer;

/**
 * The control plane's small trace collector: an OTLP/HTTP receiver (`POST /v1/traces`, JSON encoding,
 * optionally gzip) on its own port (OTLP's 4318 by default), writing into `store`. Protobuf bodies are
 * answered 415 with what to send instead.
 */
export function startCollectorServer(opts: { host: string; port: number; store: TraceStore }): Promise<CollectorServer> {
  return startReplyServer({
    host: opts.host,
    port: opts.port,
    route: async (req): Promise<Reply> => {
      const r = await receive(req, opts.store);
      return json(r.status, r.body);
    },
    onError: (err) => json(500, { code: 13, message: errorMessage(err) }),
  });
}

/** OTLP/HTTP's error body is a google.rpc.Status; success is an ExportTraceServiceResponse. */
async function receive(req: IncomingMessage, store: TraceStore): Promise<{ status: number; body: unknown }> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/v1/traces') return drain(req, 404, `no route ${path}: OTLP/HTTP traces go to POST /v1/traces`);
  if (req.method !== 'POST') return drain(req, 405, `${req.method} is not supported: POST an ExportTraceServiceRequest`);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    const what = type === 'application/x-protobuf' ? 'OTLP/HTTP protobuf is not supported by this collector' : `content type ${type || '(none)'} is not supported`;
    return drain(req, 415, `${what}: send OTLP/HTTP JSON (Content-Type: application/json)`);
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') return drain(req, 415, `content encoding ${encoding} is not supported (identity or gzip)`);
  const text = await readBody(encoding === 'gzip' ? req.pipe(createGunzip()) : req);
  if (text === null) return { status: 413, body: { code: 8, message: `the body is over ${MAX_BODY_BYTES} bytes` } };
  let decoded;
  try {
    decoded = decodeOtlpTraces(JSON.parse(text));
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof OtlpRequestError) return { status: 400, body: { code: 3, message: err.message } };
    throw err;
  }
  store.add(decoded.spans);
  if (decoded.rejected === 0) return { status: 200, body: {} };
  return { status: 200, body: { partialSuccess: { rejectedSpans: String(decoded.rejected), errorMessage: decoded.firstError } } };
}

async function readBody(stream: Readable): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      stream.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function drain(req: IncomingMessage, status: number, message: string): { status: number; body: unknown } {
  req.resume();
  return { status, body: { code: status === 415 || status === 405 ? 3 : 5, message } };
}
