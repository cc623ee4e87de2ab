import type { EnvoyJson } from '@trellis/envoy-api';
import { RetryOn, type RetryPolicy } from '../router/route.js';
import { compileHeaderMatcher } from './compile-matchers.js';
import { Where, anyTypeName, durationMs, list, num, obj, rejectNonEmpty, str, wrappedNum } from './envoy-values.js';

/** `retry_on` tokens, as Envoy's RetryStateImpl parses them (HTTP and gRPC ones share the field). */
const RETRY_ON: Record<string, number> = {
  '5xx': RetryOn.X5XX,
  'gateway-error': RetryOn.GATEWAY_ERROR,
  reset: RetryOn.RESET,
  'connect-failure': RetryOn.CONNECT_FAILURE,
  'retriable-4xx': RetryOn.RETRIABLE_4XX,
  'refused-stream': RetryOn.REFUSED_STREAM,
  'retriable-status-codes': RetryOn.RETRIABLE_STATUS_CODES,
  'retriable-headers': RetryOn.RETRIABLE_HEADERS,
  'envoy-ratelimited': RetryOn.ENVOY_RATELIMITED,
  cancelled: RetryOn.GRPC_CANCELLED,
  'deadline-exceeded': RetryOn.GRPC_DEADLINE_EXCEEDED,
  internal: RetryOn.GRPC_INTERNAL,
  'resource-exhausted': RetryOn.GRPC_RESOURCE_EXHAUSTED,
  unavailable: RetryOn.GRPC_UNAVAILABLE,
  // Only meaningful over HTTP/3, which Trellis doesn't speak upstream: accepted, never fires.
  'http3-post-connect-failure': 0,
};

const PREVIOUS_HOSTS = 'envoy.retry_host_predicates.previous_hosts';
const PREVIOUS_HOSTS_TYPE = 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';
const PREVIOUS_PRIORITIES = 'envoy.retry_priorities.previous_priorities';
const PREVIOUS_PRIORITIES_TYPE = 'envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';

/** Envoy's default base interval (`upstream.base_retry_backoff_ms`); the max defaults to 10× the base. */
export const DEFAULT_RETRY_BASE_MS = 25;

/** A route's or virtual host's `retry_policy`, with Envoy's defaults (1 retry, 25 ms base backoff). */
export function compileRetryPolicy(where: Where, v: unknown, field: string): RetryPolicy {
  const p = obj(where, v, field)!;
  rejectNonEmpty(where, p, `${field}.`, {
    per_try_idle_timeout: 'per_try_idle_timeout is not supported',
    rate_limited_retry_back_off: 'rate_limited_retry_back_off is not supported',
    retry_options_predicates: 'retry options predicates are not supported',
  });
  const { baseMs, maxMs } = backoff(where, p.retry_back_off, `${field}.retry_back_off`);
  const numRetries = wrappedNum(where, p.num_retries, `${field}.num_retries`) ?? 1;
  if (!Number.isInteger(numRetries) || numRetries < 0) where.reject(`${field}.num_retries`, `invalid value ${numRetries}`);
  const maxAttempts = num(where, p.host_selection_retry_max_attempts, `${field}.host_selection_retry_max_attempts`);
  return {
    retryOn: retryOn(where, str(where, p.retry_on, `${field}.retry_on`) ?? '', `${field}.retry_on`),
    numRetries,
    perTryTimeoutMs: durationMs(where, p.per_try_timeout, `${field}.per_try_timeout`) ?? 0,
    retriableStatusCodes: list(where, p.retriable_status_codes, `${field}.retriable_status_codes`).map(
      (c, i) => num(where, c, `${field}.retriable_status_codes[${i}]`)!,
    ),
    retriableHeaders: list(where, p.retriable_headers, `${field}.retriable_headers`).map((h, i) => {
      const f = `${field}.retriable_headers[${i}]`;
      if (String(obj(where, h, f)?.name ?? '').startsWith(':')) where.reject(`${f}.name`, 'only regular response headers can be matched');
      return compileHeaderMatcher(where, h, f);
    }),
    retriableRequestHeaders: list(where, p.retriable_request_headers, `${field}.retriable_request_headers`).map((h, i) =>
      compileHeaderMatcher(where, h, `${field}.retriable_request_headers[${i}]`),
    ),
    previousHosts: hostPredicates(where, p.retry_host_predicate, `${field}.retry_host_predicate`),
    previousPriorities: retryPriority(where, p.retry_priority, `${field}.retry_priority`),
    hostSelectionRetryMaxAttempts: maxAttempts === undefined || maxAttempts <= 0 ? 1 : Math.floor(maxAttempts),
    backoffBaseMs: baseMs,
    backoffMaxMs: maxMs,
  };
}

function retryOn(where: Where, value: string, field: string): number {
  let bits = 0;
  for (const raw of value.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    if (token === 'reset-before-request') where.reject(field, 'retry_on reset-before-request is not supported');
    const bit = RETRY_ON[token];
    if (bit === undefined) where.reject(field, `unknown retry_on condition ${JSON.stringify(token)}`);
    bits |= bit;
  }
  return bits;
}

function backoff(where: Where, v: unknown, field: string): { baseMs: number; maxMs: number } {
  const b = obj(where, v, field);
  if (!b) return { baseMs: DEFAULT_RETRY_BASE_MS, maxMs: DEFAULT_RETRY_BASE_MS * 10 };
  const baseMs = durationMs(where, b.base_interval, `${field}.base_interval`) ?? where.reject(`${field}.base_interval`, 'a base interval is required');
  if (baseMs <= 0) where.reject(`${field}.base_interval`, 'must be greater than 0');
  const maxMs = durationMs(where, b.max_interval, `${field}.max_interval`) ?? baseMs * 10;
  if (maxMs < baseMs) where.reject(`${field}.max_interval`, 'max_interval must be greater than or equal to the base_interval');
  return { baseMs, maxMs };
}

/** Only the previous-hosts predicate is known; others would change host choice in ways Trellis can't do. */
function hostPredicates(where: Where, v: unknown, field: string): boolean {
  let previousHosts = false;
  list(where, v, field).forEach((h, i) => {
    const o = obj(where, h, `${field}[${i}]`)!;
    const id = extensionId(where, o, `${field}[${i}]`);
    if (id !== PREVIOUS_HOSTS && id !== PREVIOUS_HOSTS_TYPE) where.reject(`${field}[${i}]`, `retry host predicate ${id || '(unnamed)'} is not supported`);
    previousHosts = true;
  });
  return previousHosts;
}

function retryPriority(where: Where, v: unknown, field: string): boolean {
  const o = obj(where, v, field);
  if (!o) return false;
  const id = extensionId(where, o, field);
  if (id !== PREVIOUS_PRIORITIES && id !== PREVIOUS_PRIORITIES_TYPE) where.reject(field, `retry priority ${id || '(unnamed)'} is not supported`);
  return true;
}

/** A TypedExtensionConfig-like `{ name, typed_config }`: the config's type when present, else the name. */
function extensionId(where: Where, o: EnvoyJson, field: string): string {
  const typed = obj(where, o.typed_config, `${field}.typed_config`);
  return anyTypeName(typed) ?? (typeof o.name === 'string' ? o.name : '');
}
