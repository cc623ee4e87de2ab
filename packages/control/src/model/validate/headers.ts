/** Header names and values in matches and header operations (Istio's header validators). */
import type { Headers } from '../istio-types.js';
import { each } from './context.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

// RFC 7230 token characters.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const CONTROL_CHARS = /[\u0000-\u0008\u000A-\u001F\u007F]/;

/** `@request.auth.claims.sub` / `@request.auth.claims[sub]`: routing on JWT claims (gateways only). */
export function isJwtClaimRoute(name: string): boolean {
  return name.startsWith('@request.auth.claims.') || name.startsWith('@request.auth.claims[');
}

/** Names in `headers` / `withoutHeaders` matches. */
export function validateMatchHeaderName(name: string, path: FieldPath, r: Reporter): void {
  if (name === '') r.error(path, 'header name cannot be empty');
  else if (!isJwtClaimRoute(name) && !PSEUDO_HEADERS.has(name) && !HEADER_NAME.test(name)) {
    r.error(path, `header name ${name} is not a valid header name`);
  }
}

const isInternal = (name: string) => name.startsWith(':') || name.toLowerCase() === 'host';
export const isAuthorityHeader = (name: string) => name.toLowerCase() === ':authority' || name.toLowerCase() === 'host';

function requestSetName(name: string, path: FieldPath, r: Reporter): void {
  if (name === '') r.error(path, 'header name cannot be empty');
  else if (isInternal(name) && !isAuthorityHeader(name)) r.error(path, `invalid header "${name}": header cannot have ":" prefix`);
}

function operationName(name: string, path: FieldPath, r: Reporter): void {
  if (name === '') r.error(path, 'header name cannot be empty');
  else if (name.toLowerCase() === 'host') r.error(path, `invalid header "${name}": cannot set Host header`);
  else if (isInternal(name)) r.error(path, `invalid header "${name}": header cannot have ":" prefix`);
}

/**
 * Envoy reads `%...%` in header values as a substitution (`%HOSTNAME%`); a lone `%` must be written `%%`.
 * We don't check the variable names, only that the value parses.
 */
export function headerValueError(value: string): string | undefined {
  if (CONTROL_CHARS.test(value)) return `header value ${JSON.stringify(value)} contains control characters`;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '%') continue;
    if (value[i + 1] === '%') {
      i++;
      continue;
    }
    const close = value.indexOf('%', i + 1);
    if (close < 0) return `header value ${JSON.stringify(value)} has an unterminated "%" (write "%%" for a literal percent sign)`;
    i = close;
  }
  return undefined;
}

export function validateHeaderOperations(headers: Headers | undefined, path: FieldPath, r: Reporter): void {
  if (!headers) return;
  const { request, response } = headers;
  for (const [op, ops, nameRule] of [
    ['request', request, requestSetName],
    ['response', response, operationName],
  ] as const) {
    if (!ops) continue;
    for (const kind of ['set', 'add'] as const) {
      for (const [name, value] of Object.entries(ops[kind] ?? {})) {
        const at = [...path, op, kind, name];
        nameRule(name, at, r);
        const err = headerValueError(value);
        if (err) r.error(at, err);
      }
    }
    each(ops.remove, [...path, op, 'remove'], (name, at) => operationName(name, at, r));
  }
}
