import { json, type Reply } from '../http/reply-server.js';
import type { TraceStore } from './trace-store.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

/**
 * The collector's read side on the API server: GET /api/v1/traces[?service=NAME&limit=N] (recent traces,
 * newest first; `service` is a span's service.name, e.g. `productpage.default`) and
 * GET /api/v1/traces/TRACE_ID (its spans with parent ids, services, attributes, start and end).
 */
export function tracesRoute(store: TraceStore | undefined, rest: readonly string[], q: URLSearchParams, fail: (code: number, reason: string, message: string) => Reply): Reply {
  if (!store) return fail(404, 'NotFound', 'this control plane runs no trace collector');
  if (rest.length === 0) {
    const limitText = q.get('limit');
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return fail(400, 'BadRequest', `limit must be an integer from 1 to ${MAX_LIMIT}`);
    const service = q.get('service') || undefined;
    return json(200, { traces: store.list(service, limit) });
  }
  if (rest.length !== 1) return fail(404, 'NotFound', `no route /api/v1/traces/${rest.join('/')}`);
  const traceId = rest[0]!.toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(traceId)) return fail(400, 'BadRequest', 'a trace id is 32 hex digits');
  const spans = store.trace(traceId);
  if (!spans) return fail(404, 'NotFound', `trace ${traceId} not found (never received, or evicted)`);
  return json(200, { traceId, spans });
}
