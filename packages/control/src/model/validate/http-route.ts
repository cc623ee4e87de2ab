/** One `http` route of a VirtualService (Istio's validateHTTPRoute and its helpers). */
import type {
  CorsPolicy,
  Destination,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPRedirect,
  HTTPRetry,
  HTTPRewrite,
  HTTPRoute,
  HTTPRouteDestination,
  HTTPDirectResponse,
  Headers,
} from '../istio-types.js';
import { each } from './context.js';
import { validateDurationAtLeast1ms, durationHasSubSecondPart } from './duration.js';
import { isAuthorityHeader, validateHeaderOperations, validateMatchHeaderName } from './headers.js';
import { isDNS1123Label, validateWildcardDomain } from './hosts.js';
import { validateLabels } from './labels.js';
import type { FieldPath } from './path.js';
import { validatePercentage, validatePercentInt } from './percent.js';
import { validatePort } from './ports.js';
import type { Reporter } from './reporter.js';
import { validateRegex, validateStringMatch } from './string-match.js';
import { validateGatewayNames } from './gateway-names.js';

/** Where a route sits: a normal VirtualService, a root that delegates, or inside a delegate VirtualService. */
export type HTTPRouteType = 'independent' | 'root' | 'delegate';

export function validateHTTPRoute(route: HTTPRoute, inDelegate: boolean, path: FieldPath, r: Reporter): void {
  const type: HTTPRouteType = inDelegate ? 'delegate' : route.delegate ? 'root' : 'independent';
  validateConflicts(route, type, path, r);
  each(route.match, [...path, 'match'], (m, at) => validateMatchRequest(m, at, r));
  validateHeaderOperations(route.headers, [...path, 'headers'], r);
  validateCors(route.corsPolicy, [...path, 'corsPolicy'], r);
  validateFault(route.fault, [...path, 'fault'], r);
  if (route.mirrorPercent !== undefined && route.mirrorPercent > 100) {
    r.error([...path, 'mirrorPercent'], `mirror_percent must have a max value of 100 (it has ${route.mirrorPercent})`);
  }
  validateMirrorPercentage(route.mirrorPercentage?.value, [...path, 'mirrorPercentage', 'value'], r);
  validateDestination(route.mirror, [...path, 'mirror'], r);
  each(route.mirrors, [...path, 'mirrors'], (mirror, at) => {
    if (!mirror.destination) r.error([...at, 'destination'], 'destination is required for mirrors');
    validateDestination(mirror.destination, [...at, 'destination'], r);
    validateMirrorPercentage(mirror.percentage?.value, [...at, 'percentage', 'value'], r);
  });
  validateRedirect(route.redirect, [...path, 'redirect'], r);
  validateDirectResponse(route.directResponse, [...path, 'directResponse'], r);
  validateRetries(route.retries, [...path, 'retries'], r);
  validateRewrite(route.rewrite, [...path, 'rewrite'], r);
  validateAuthorityRewrite(route.rewrite, route.headers, path, r);
  validateRouteDestinations(route.route, [...path, 'route'], r);
  validateDurationAtLeast1ms(route.timeout, [...path, 'timeout'], r);
  if (route.delegate) {
    if (!route.delegate.name) r.error([...path, 'delegate', 'name'], 'delegate name is required');
    if (route.delegate.namespace && !isDNS1123Label(route.delegate.namespace)) {
      r.error([...path, 'delegate', 'namespace'], `invalid namespace "${route.delegate.namespace}"`);
    }
  }
}

/** route / redirect / directResponse / delegate are alternatives (Istio's validateHTTPRouteConflict). */
function validateConflicts(route: HTTPRoute, type: HTTPRouteType, path: FieldPath, r: Reporter): void {
  const hasRoute = (route.route?.length ?? 0) > 0;
  if (type === 'root') {
    // Only `delegate` says where requests go; the delegate VirtualService does the routing.
    const root = route.name ? `root HTTP route ${route.name}` : 'root HTTP route';
    if (route.redirect) r.error(path, `${root} must not specify redirect`);
    if (route.route) r.error(path, `${root} must not specify route`);
    if (route.directResponse) r.error(path, `${root} must not specify directResponse`);
    return;
  }
  if (type === 'delegate' && route.delegate) r.error([...path, 'delegate'], 'delegate HTTP route cannot contain delegate');
  if (route.redirect) {
    if (hasRoute) r.error(path, 'HTTP route cannot contain both route and redirect');
    if (route.fault) r.error(path, 'HTTP route cannot contain both fault and redirect');
    if (route.rewrite) r.error(path, 'HTTP route rule cannot contain both rewrite and redirect');
    if (route.directResponse) r.error(path, 'HTTP route rule cannot contain both direct_response and redirect');
  } else if (route.directResponse) {
    if (hasRoute) r.error(path, 'HTTP route cannot contain both route and direct_response');
    if (route.fault) r.error(path, 'HTTP route cannot contain both fault and direct_response');
    if (route.rewrite) r.error(path, 'HTTP route rule cannot contain both rewrite and direct_response');
  } else if (!hasRoute) {
    r.error(path, 'HTTP route, redirect or direct_response is required');
  }
  if (route.mirror && (route.mirrors?.length ?? 0) > 0) r.error(path, 'HTTP route cannot contain both mirror and mirrors');
}

function validateMatchRequest(m: HTTPMatchRequest, path: FieldPath, r: Reporter): void {
  for (const [name, match] of Object.entries(m.headers ?? {})) {
    validateMatchHeaderName(name, [...path, 'headers', name], r);
    validateStringMatch(match, [...path, 'headers', name], r);
  }
  for (const [name, match] of Object.entries(m.withoutHeaders ?? {})) {
    validateMatchHeaderName(name, [...path, 'withoutHeaders', name], r);
    // `regex: "*"` is not RE2 here: Istio turns it into "header absent".
    if (match.regex !== '*') validateStringMatch(match, [...path, 'withoutHeaders', name], r);
  }
  validateStringMatch(m.uri, [...path, 'uri'], r, { allowEmptyPrefix: true });
  validateStringMatch(m.scheme, [...path, 'scheme'], r);
  validateStringMatch(m.method, [...path, 'method'], r);
  validateStringMatch(m.authority, [...path, 'authority'], r);
  for (const [name, match] of Object.entries(m.queryParams ?? {})) {
    validateStringMatch(match, [...path, 'queryParams', name], r);
  }
  if (m.port !== undefined && m.port !== 0) validatePort(m.port, [...path, 'port'], r);
  validateLabels(m.sourceLabels, [...path, 'sourceLabels'], r);
  validateGatewayNames(m.gateways, [...path, 'gateways'], r);
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== '' && !isDNS1123Label(m.sourceNamespace)) {
    r.error([...path, 'sourceNamespace'], `sourceNamespace match ${m.sourceNamespace} is invalid`);
  }
}

const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);
const CORS_HEADER_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;

function validateCors(cors: CorsPolicy | undefined, path: FieldPath, r: Reporter): void {
  if (!cors) return;
  each(cors.allowOrigins, [...path, 'allowOrigins'], (origin, at) => {
    const value = origin.exact ?? origin.prefix ?? origin.regex;
    if (!value) r.error(at, `'${value ?? ''}' is not a valid match type for CORS allow origins`);
    else validateStringMatch(origin, at, r);
  });
  each(cors.allowMethods, [...path, 'allowMethods'], (method, at) => {
    if (!CORS_METHODS.has(method)) r.error(at, `"${method}" is not a supported HTTP method`);
  });
  for (const field of ['allowHeaders', 'exposeHeaders'] as const) {
    each(cors[field], [...path, field], (name, at) => {
      if (name === '') r.error(at, 'header name cannot be empty');
      else if (name !== '*' && !CORS_HEADER_NAME.test(name)) r.error(at, `header name ${name} is not a valid header name`);
    });
  }
  if (cors.maxAge !== undefined) {
    validateDurationAtLeast1ms(cors.maxAge, [...path, 'maxAge'], r);
    if (durationHasSubSecondPart(cors.maxAge)) r.error([...path, 'maxAge'], 'max_age duration is accurate only to seconds precision');
  }
}

const GRPC_STATUS = new Set([
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]);

function validateFault(fault: HTTPFaultInjection | undefined, path: FieldPath, r: Reporter): void {
  if (!fault) return;
  if (!fault.abort && !fault.delay) r.error(path, 'HTTP fault injection must have an abort and/or a delay');
  const { abort, delay } = fault;
  if (abort) {
    const at = [...path, 'abort'];
    validatePercentage(abort.percentage, [...at, 'percentage'], r);
    if (abort.httpStatus !== undefined) validateHTTPStatus(abort.httpStatus, [...at, 'httpStatus'], r);
    else if (abort.grpcStatus !== undefined) {
      if (!GRPC_STATUS.has(abort.grpcStatus)) {
        r.error([...at, 'grpcStatus'], `gRPC status "${abort.grpcStatus}" is not supported, use a code name such as NOT_FOUND or UNAVAILABLE`);
      }
    } else if (abort.http2Error !== undefined) r.error([...at, 'http2Error'], 'HTTP/2 abort fault injection not supported yet');
    else r.warn(at, 'abort configured, but error type not set');
  }
  if (delay) {
    const at = [...path, 'delay'];
    validatePercentage(delay.percentage, [...at, 'percentage'], r);
    validatePercentInt(delay.percent, [...at, 'percent'], r);
    validateDurationAtLeast1ms(delay.fixedDelay, [...at, 'fixedDelay'], r);
    if (delay.exponentialDelay !== undefined) r.error([...at, 'exponentialDelay'], 'exponentialDelay not supported yet');
    // Envoy's FaultDelay needs a delay; Istio would send one without and the proxy would NACK the routes.
    else if (delay.fixedDelay === undefined) r.error([...at, 'fixedDelay'], 'fixedDelay is required for a delay fault');
  }
}

function validateHTTPStatus(status: number, path: FieldPath, r: Reporter): void {
  if (status < 200 || status > 600) r.error(path, `HTTP status ${status} is not in range 200-599`);
}

function validateMirrorPercentage(value: number | undefined, path: FieldPath, r: Reporter): void {
  if (value === undefined) return;
  if (value > 100) r.error(path, `mirror percentage must have a max value of 100 (it has ${value})`);
  if (value < 0) r.error(path, `mirror percentage must have a min value of 0 (it has ${value})`);
}

/** A destination's host, subset and port (Istio's validateDestination). */
export function validateDestination(d: Destination | undefined, path: FieldPath, r: Reporter): void {
  if (!d) return;
  if (d.host === undefined) r.error([...path, 'host'], 'destination host is required');
  else if (d.host === '*') r.error([...path, 'host'], `invalid destination host ${d.host}`);
  else {
    const err = validateWildcardDomain(d.host);
    if (err) r.error([...path, 'host'], err);
  }
  if (d.subset !== undefined) validateSubsetName(d.subset, [...path, 'subset'], r);
  if (d.port) validatePort(d.port.number ?? 0, [...path, 'port', 'number'], r);
}

export function validateSubsetName(name: string, path: FieldPath, r: Reporter): void {
  if (name === '') r.error(path, 'subset name cannot be empty');
  else if (!isDNS1123Label(name)) r.error(path, `subset name is invalid: ${name}`);
}

/**
 * Weights are relative (a destination gets weight / sum); Istio only requires them non-negative and,
 * with several destinations, not all zero. A sum other than 100 is accepted with a warning.
 */
export function validateRouteDestinations(
  routes: readonly (HTTPRouteDestination | null)[] | undefined,
  path: FieldPath,
  r: Reporter,
): void {
  if (!routes) return;
  let total = 0;
  let negative = false;
  each(routes, path, (rd, at) => {
    if (!rd.destination) r.error([...at, 'destination'], 'destination is required');
    validateDestination(rd.destination, [...at, 'destination'], r);
    if (rd.weight !== undefined && rd.weight < 0) {
      r.error([...at, 'weight'], `weight ${rd.weight} < 0`);
      negative = true;
    }
    total += rd.weight ?? 0;
    if ('headers' in rd) validateHeaderOperations(rd.headers, [...at, 'headers'], r);
  });
  if (routes.length > 1 && total === 0) r.error(path, 'total destination weight = 0');
  // Accepted, as Istio does, but easy to get wrong when a canary is edited by hand.
  else if (routes.length > 1 && total !== 100 && !negative) {
    r.warn(path, `weights sum to ${total}, not 100: each destination gets weight/${total} of the traffic`);
  }
}

const REDIRECT_SCHEMES = new Set(['http', 'https']);
const ENVOY_REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function validateRedirect(redirect: HTTPRedirect | undefined, path: FieldPath, r: Reporter): void {
  if (!redirect) return;
  if (!redirect.uri && !redirect.authority && redirect.port === undefined && redirect.derivePort === undefined && !redirect.scheme) {
    r.error(path, 'redirect must specify URI, authority, scheme, or port');
  }
  const code = redirect.redirectCode;
  if (code !== undefined && code !== 0) {
    if (code < 300 || code > 399) r.error([...path, 'redirectCode'], `${code} is not a valid redirect code, must be 3xx`);
    // Istio accepts any 3xx but can only send these; for the others it would emit a route without action.
    else if (!ENVOY_REDIRECT_CODES.has(code)) r.error([...path, 'redirectCode'], `redirect code ${code} is not supported, use 301, 302, 303, 307 or 308`);
  }
  if (redirect.scheme && !REDIRECT_SCHEMES.has(redirect.scheme)) r.error([...path, 'scheme'], 'invalid redirect scheme, must be "http" or "https"');
  if (redirect.port !== undefined && redirect.port > 0) validatePort(redirect.port, [...path, 'port'], r);
}

const KB = 1024;

function validateDirectResponse(dr: HTTPDirectResponse | undefined, path: FieldPath, r: Reporter): void {
  if (!dr) return;
  if (dr.status === undefined) r.error([...path, 'status'], 'status is required');
  else validateHTTPStatus(dr.status, [...path, 'status'], r);
  const size = (dr.body?.string ?? dr.body?.bytes ?? '').length;
  if (size > KB * KB) r.error([...path, 'body'], 'large direct_responses may impact control plane performance, must be less than 1MB');
  else if (size > 100 * KB) r.warn([...path, 'body'], 'large direct_responses may impact control plane performance');
}

// Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies (plus HTTP status codes).
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

function validateRetries(retries: HTTPRetry | undefined, path: FieldPath, r: Reporter): void {
  if (!retries) return;
  const attempts = retries.attempts ?? 0;
  if (attempts < 0) r.error([...path, 'attempts'], 'attempts cannot be negative');
  if (attempts === 0 && (retries.perTryTimeout !== undefined || retries.retryOn || retries.retryRemoteLocalities !== undefined)) {
    r.error(path, 'http retry policy configured when attempts are set to 0 (disabled)');
  }
  validateDurationAtLeast1ms(retries.perTryTimeout, [...path, 'perTryTimeout'], r);
  validateDurationAtLeast1ms(retries.backoff, [...path, 'backoff'], r);
  if (retries.retryOn) {
    for (const policy of retries.retryOn.split(',')) {
      const isStatus = /^[0-9]+$/.test(policy) && Number(policy) >= 100 && Number(policy) <= 599;
      if (!isStatus && !RETRY_ON.has(policy)) r.error([...path, 'retryOn'], `"${policy}" is not a valid retryOn policy`);
    }
  }
}

function validateRewrite(rewrite: HTTPRewrite | undefined, path: FieldPath, r: Reporter): void {
  if (!rewrite) return;
  if (rewrite.uri && rewrite.uriRegexRewrite) {
    r.error(path, 'rewrite may only contain one of URI or UriRegexRewrite');
    return;
  }
  if (!rewrite.uri && !rewrite.uriRegexRewrite && !rewrite.authority) {
    r.error(path, 'rewrite must specify at least one of URI, UriRegexRewrite, or authority');
    return;
  }
  const regex = rewrite.uriRegexRewrite;
  if (regex) {
    if (!regex.match || !regex.rewrite) r.error([...path, 'uriRegexRewrite'], 'UriRegexRewrite requires both Rewrite and Match fields to be specified');
    else validateRegex(regex.match, [...path, 'uriRegexRewrite', 'match'], r);
  }
}

/** The authority may be rewritten in one place only: rewrite.authority or one Host/:authority header. */
function validateAuthorityRewrite(rewrite: HTTPRewrite | undefined, headers: Headers | undefined, path: FieldPath, r: Reporter): void {
  let current = rewrite?.authority ?? '';
  for (const op of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(headers?.request?.[op] ?? {})) {
      if (!isAuthorityHeader(name)) continue;
      if (current !== '') {
        r.error([...path, 'headers', 'request', op, name], `authority header cannot be set multiple times: have "${current}", attempting to set "${value}"`);
        return;
      }
      current = value;
    }
  }
}
