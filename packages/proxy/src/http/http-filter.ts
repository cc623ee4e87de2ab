import type { HeaderMap } from '../router/header-mutations.js';
import type { ActiveStream } from './active-stream.js';

/**
 * `continue`: run the next filter. `stop`: the filter took over — it replied locally, or it will call
 * `stream.continueDecoding()` later (e.g. after a fault-injection delay).
 */
export type FilterStatus = 'continue' | 'stop';

/**
 * One stage of the HTTP filter chain (Envoy's http_filters). Filters are built once per config and shared
 * by every request, so per-request state lives on the stream, never on the filter.
 */
export interface HttpFilter {
  readonly name: string;
  /** Request headers, in chain order. The router, last, starts the upstream request. */
  decodeHeaders(stream: ActiveStream): FilterStatus;
  /** Response headers (upstream or local reply) on their way downstream, in reverse chain order. */
  encodeHeaders?(stream: ActiveStream, status: number, headers: HeaderMap): void;
}
