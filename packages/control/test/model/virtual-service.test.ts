import { describe, expect, it } from 'vitest';
import { errorsOf, parseObjects, routeTo, virtualService, warningsOf } from './helpers.js';

const check = (spec: object) => parseObjects(virtualService(spec));
const errors = (spec: object) => errorsOf(check(spec));
const warnings = (spec: object) => warningsOf(check(spec));
/** Errors of one HTTP route in an otherwise valid VirtualService. */
const routeErrors = (route: object) => errors({ hosts: ['reviews'], http: [route] });

describe('VirtualService hosts', () => {
  it('accepts short names, FQDNs, wildcards and IPs', () => {
    expect(errors({ hosts: ['reviews', 'reviews.ns.svc.cluster.local', '*.example.com', '10.0.0.1'], http: [routeTo()] })).toEqual([]);
  });

  it('rejects bad host names', () => {
    expect(errors({ hosts: ['', 'bad_host', 'a.*.com', 'example.123'], http: [routeTo()] })).toEqual([
      { path: 'spec.hosts[0]', message: 'empty domain name not allowed' },
      { path: 'spec.hosts[1]', message: 'domain name "bad_host" invalid (label "bad_host" invalid)' },
      { path: 'spec.hosts[2]', message: 'domain name "a.*.com" invalid (label "*" invalid)' },
      { path: 'spec.hosts[3]', message: 'domain name "example.123" invalid (top level domain "123" cannot be all-numeric)' },
    ]);
  });

  it('allows * only for gateways', () => {
    expect(errors({ hosts: ['*'], http: [routeTo()] })).toEqual([
      { path: 'spec.hosts[0]', message: 'wildcard host * is not allowed for virtual services bound to the mesh gateway' },
    ]);
    expect(errors({ hosts: ['*'], gateways: ['bookinfo-gateway'], http: [routeTo()] })).toEqual([]);
    expect(errors({ hosts: ['*'], gateways: ['bookinfo-gateway', 'mesh'], http: [routeTo()] })).toHaveLength(1);
  });

  it('rejects duplicate and overlapping hosts', () => {
    expect(errors({ hosts: ['a.example.com', '*.example.com'], http: [routeTo()] })).toEqual([
      { path: 'spec.hosts[1]', message: 'duplicate hosts in virtual service: a.example.com & *.example.com' },
    ]);
  });

  it('treats a VirtualService without hosts as a delegate', () => {
    expect(errors({ http: [routeTo()] })).toEqual([]);
    expect(errors({ gateways: ['gw'], http: [routeTo()] })).toEqual([
      { path: 'spec.gateways', message: 'delegate virtual service must have no gateways specified' },
    ]);
  });

  it('requires some routes', () => {
    expect(errors({ hosts: ['a'] })).toEqual([{ path: 'spec', message: 'http, tcp or tls must be provided in virtual service' }]);
  });

  it('checks gateway names', () => {
    expect(errors({ hosts: ['a.com'], gateways: ['ns/gw', 'mesh', 'gw', 'bad_ns/gw', '/gw'], http: [routeTo()] })).toEqual([
      { path: 'spec.gateways[3]', message: 'invalid value for namespace: "bad_ns"' },
      { path: 'spec.gateways[4]', message: 'config namespace and gateway name cannot be empty' },
      { path: 'spec.gateways[4]', message: 'invalid value for namespace: ""' },
    ]);
    expect(warnings({ hosts: ['a.com'], gateways: ['gw.ns'], http: [routeTo()] })).toEqual([
      { path: 'spec.gateways[0]', message: 'using legacy gatewayName format "gw.ns"; prefer the <namespace>/<name> format: "ns/gw"' },
    ]);
  });

  it('checks exportTo', () => {
    expect(errors({ hosts: ['a'], http: [routeTo()], exportTo: ['ns', '.', 'other', 'other', 'bad_ns'] })).toEqual([
      { path: 'spec.exportTo[1]', message: 'duplicate entries in exportTo: . and current namespace ns' },
      { path: 'spec.exportTo[3]', message: 'duplicate entries in exportTo for entry other' },
      { path: 'spec.exportTo[4]', message: 'only ".", "*", "~" or a namespace name (DNS-1123 label) is allowed as exportTo entry, got "bad_ns"' },
    ]);
    expect(errors({ hosts: ['a'], http: [routeTo()], exportTo: ['*', 'other'] })).toEqual([
      { path: 'spec.exportTo', message: 'cannot have both public (*) and non-public exportTo values for a resource' },
    ]);
  });
});

describe('route destinations and weights', () => {
  const dest = (subset: string, weight?: number) => ({ destination: { host: 'reviews', subset }, ...(weight === undefined ? {} : { weight }) });

  it('accepts weights that sum to 100, and relative weights (Istio only requires them non-negative)', () => {
    expect(routeErrors({ route: [dest('v1', 75), dest('v2', 25)] })).toEqual([]);
    expect(routeErrors({ route: [dest('v1', 1), dest('v2', 3)] })).toEqual([]);
    expect(routeErrors({ route: [dest('v1', 0), dest('v2', 100)] })).toEqual([]);
    expect(routeErrors({ route: [dest('v1')] })).toEqual([]);
  });

  it('warns when a split does not sum to 100, naming the share each destination really gets', () => {
    expect(warnings({ hosts: ['reviews'], http: [{ route: [dest('v1', 1), dest('v2', 3)] }] })).toEqual([
      { path: 'spec.http[0].route', message: 'weights sum to 4, not 100: each destination gets weight/4 of the traffic' },
    ]);
    expect(warnings({ hosts: ['reviews'], http: [{ route: [dest('v1', 90), dest('v2', 10)] }] })).toEqual([]);
    expect(warnings({ hosts: ['reviews'], http: [{ route: [dest('v1', 150)] }] })).toEqual([]);
  });

  it('rejects negative weights and an all-zero split', () => {
    expect(routeErrors({ route: [dest('v1', 110), dest('v2', -10)] })).toEqual([{ path: 'spec.http[0].route[1].weight', message: 'weight -10 < 0' }]);
    expect(routeErrors({ route: [dest('v1', 0), dest('v2', 0)] })).toEqual([{ path: 'spec.http[0].route', message: 'total destination weight = 0' }]);
    expect(routeErrors({ route: [dest('v1'), dest('v2')] })).toEqual([{ path: 'spec.http[0].route', message: 'total destination weight = 0' }]);
  });

  it('checks destination host, subset name and port', () => {
    expect(routeErrors({ route: [{ destination: { host: '*' } }, { destination: { host: 'a', subset: 'V_1', port: { number: 70000 } }, weight: 1 }, { weight: 1 }] })).toEqual([
      { path: 'spec.http[0].route[0].destination.host', message: 'invalid destination host *' },
      { path: 'spec.http[0].route[1].destination.subset', message: 'subset name is invalid: V_1' },
      { path: 'spec.http[0].route[1].destination.port.number', message: 'port number 70000 must be in the range 1..65535' },
      { path: 'spec.http[0].route[2].destination', message: 'destination is required' },
    ]);
    expect(routeErrors({ route: [{ destination: { host: 'a', subset: '' } }] })).toEqual([
      { path: 'spec.http[0].route[0].destination.subset', message: 'subset name cannot be empty' },
    ]);
    expect(routeErrors({ route: [{ destination: { subset: 'v1' } }] })).toEqual([
      { path: 'spec.http[0].route[0].destination.host', message: 'destination host is required' },
    ]);
  });
});

describe('route, redirect, directResponse and delegate', () => {
  it('requires one of them', () => {
    expect(routeErrors({ timeout: '1s' })).toEqual([{ path: 'spec.http[0]', message: 'HTTP route, redirect or direct_response is required' }]);
  });

  it('rejects combinations', () => {
    expect(routeErrors({ ...routeTo(), redirect: { uri: '/x' } })).toEqual([{ path: 'spec.http[0]', message: 'HTTP route cannot contain both route and redirect' }]);
    expect(routeErrors({ ...routeTo(), directResponse: { status: 503 } })).toEqual([
      { path: 'spec.http[0]', message: 'HTTP route cannot contain both route and direct_response' },
    ]);
    expect(routeErrors({ redirect: { uri: '/x' }, directResponse: { status: 503 } })).toEqual([
      { path: 'spec.http[0]', message: 'HTTP route rule cannot contain both direct_response and redirect' },
    ]);
    expect(routeErrors({ redirect: { uri: '/x' }, rewrite: { uri: '/y' } })).toEqual([
      { path: 'spec.http[0]', message: 'HTTP route rule cannot contain both rewrite and redirect' },
    ]);
    expect(routeErrors({ ...routeTo(), delegate: { name: 'child' } })).toEqual([{ path: 'spec.http[0]', message: 'root HTTP route must not specify route' }]);
    expect(routeErrors({ name: 'api', redirect: { uri: '/x' }, directResponse: { status: 404 }, delegate: { name: 'child' } })).toEqual([
      { path: 'spec.http[0]', message: 'root HTTP route api must not specify redirect' },
      { path: 'spec.http[0]', message: 'root HTTP route api must not specify directResponse' },
    ]);
    expect(routeErrors({ delegate: { name: 'child', namespace: 'team' } })).toEqual([]);
    // What a delegate route inherits may be set on the root route.
    expect(routeErrors({ delegate: { name: 'child' }, timeout: '1s', retries: { attempts: 1 }, fault: { abort: { httpStatus: 500, percentage: { value: 1 } } }, headers: { request: { set: { a: 'b' } } } })).toEqual([]);
  });

  it('forbids delegating from a delegate', () => {
    expect(errors({ http: [{ delegate: { name: 'x' } }] })).toEqual([
      { path: 'spec.http[0].delegate', message: 'delegate HTTP route cannot contain delegate' },
      { path: 'spec.http[0]', message: 'HTTP route, redirect or direct_response is required' },
    ]);
  });

  it('checks redirects', () => {
    expect(routeErrors({ redirect: {} })).toEqual([{ path: 'spec.http[0].redirect', message: 'redirect must specify URI, authority, scheme, or port' }]);
    expect(routeErrors({ redirect: { uri: '/a', redirectCode: 200, scheme: 'ftp' } })).toEqual([
      { path: 'spec.http[0].redirect.redirectCode', message: '200 is not a valid redirect code, must be 3xx' },
      { path: 'spec.http[0].redirect.scheme', message: 'invalid redirect scheme, must be "http" or "https"' },
    ]);
    expect(routeErrors({ redirect: { port: 8080, derivePort: 'FROM_REQUEST_PORT' } })).toEqual([
      { path: 'spec.http[0].redirect', message: 'only one of port, derivePort may be set, found port and derivePort' },
    ]);
    expect(routeErrors({ redirect: { derivePort: 'FROM_REQUEST_PORT', redirectCode: 308 } })).toEqual([]);
    // 3xx codes Envoy cannot send would leave the route without an action.
    expect(routeErrors({ redirect: { uri: '/a', redirectCode: 304 } })).toEqual([
      { path: 'spec.http[0].redirect.redirectCode', message: 'redirect code 304 is not supported, use 301, 302, 303, 307 or 308' },
    ]);
  });

  it('checks direct responses', () => {
    expect(routeErrors({ directResponse: { status: 503, body: { string: 'down' } } })).toEqual([]);
    expect(routeErrors({ directResponse: { status: 99 } })).toEqual([{ path: 'spec.http[0].directResponse.status', message: 'HTTP status 99 is not in range 200-599' }]);
    expect(routeErrors({ directResponse: { body: { string: 'x' } } })).toEqual([{ path: 'spec.http[0].directResponse.status', message: 'status is required' }]);
  });

  it('checks rewrites', () => {
    expect(routeErrors({ ...routeTo(), rewrite: {} })).toEqual([
      { path: 'spec.http[0].rewrite', message: 'rewrite must specify at least one of URI, UriRegexRewrite, or authority' },
    ]);
    expect(routeErrors({ ...routeTo(), rewrite: { uri: '/a', uriRegexRewrite: { match: 'a', rewrite: 'b' } } })).toEqual([
      { path: 'spec.http[0].rewrite', message: 'rewrite may only contain one of URI or UriRegexRewrite' },
    ]);
    expect(routeErrors({ ...routeTo(), rewrite: { uriRegexRewrite: { match: '^/v1/(.*', rewrite: '/\\1' } } })).toEqual([
      {
        path: 'spec.http[0].rewrite.uriRegexRewrite.match',
        message: 'regex "^/v1/(.*": invalid RE2 syntax: missing ): ^/v1/(.* (Istio uses RE2 syntax, https://github.com/google/re2/wiki/Syntax)',
      },
    ]);
    expect(routeErrors({ ...routeTo(), rewrite: { authority: 'a' }, headers: { request: { set: { host: 'b' } } } })).toEqual([
      { path: 'spec.http[0].headers.request.set.host', message: 'authority header cannot be set multiple times: have "a", attempting to set "b"' },
    ]);
  });
});

describe('matches', () => {
  const matchErrors = (match: object) => routeErrors({ match: [match], ...routeTo() });

  it('accepts exact, prefix, regex and header presence ({})', () => {
    expect(matchErrors({ uri: { prefix: '/api' }, headers: { 'end-user': { exact: 'jason' }, 'x-canary': {} }, method: { regex: 'GET|POST' } })).toEqual([]);
    expect(matchErrors({ uri: { prefix: '' } })).toEqual([]);
  });

  it('allows only one of exact, prefix, regex', () => {
    expect(matchErrors({ uri: { exact: '/a', prefix: '/b' } })).toEqual([
      { path: 'spec.http[0].match[0].uri', message: 'only one of exact, prefix, regex may be set, found exact and prefix' },
    ]);
  });

  it('rejects empty prefixes (except in uri) and empty regexes', () => {
    expect(matchErrors({ headers: { 'x-a': { prefix: '' } }, authority: { regex: '' } })).toEqual([
      { path: 'spec.http[0].match[0].headers.x-a.prefix', message: 'prefix string match should not be empty' },
      { path: 'spec.http[0].match[0].authority.regex', message: 'regex string match should not be empty' },
    ]);
  });

  it('compiles regexes as RE2 and rejects what Trellis cannot run', () => {
    expect(matchErrors({ uri: { regex: '/a[' } })).toEqual([
      { path: 'spec.http[0].match[0].uri.regex', message: 'regex "/a[": invalid RE2 syntax: missing ]: [ (Istio uses RE2 syntax, https://github.com/google/re2/wiki/Syntax)' },
    ]);
    expect(matchErrors({ uri: { regex: '/(?=a)' } })[0]!.message).toContain('invalid RE2 syntax: invalid perl operator: (?=');
    expect(matchErrors({ uri: { regex: '\\C' } })[0]!.message).toContain('\\C (any single byte) has no JavaScript equivalent');
    expect(matchErrors({ uri: { regex: 'a'.repeat(1025) } })).toEqual([
      { path: 'spec.http[0].match[0].uri.regex', message: 'regex is too large, max length allowed is 1024' },
    ]);
  });

  it('checks header names, ports, labels, source namespace and gateways', () => {
    expect(matchErrors({ headers: { 'bad header': { exact: 'x' } }, port: 0, sourceLabels: { app: 'a b' }, sourceNamespace: 'Not OK', gateways: ['a/b/c'] })).toEqual([
      { path: 'spec.http[0].match[0].headers["bad header"]', message: 'header name bad header is not a valid header name' },
      { path: 'spec.http[0].match[0].sourceLabels.app', message: expect.stringMatching(/^invalid label value "a b"/) },
      { path: 'spec.http[0].match[0].gateways[0]', message: 'invalid value for gateway name: "b/c"' },
      { path: 'spec.http[0].match[0].sourceNamespace', message: 'sourceNamespace match Not OK is invalid' },
    ]);
    expect(matchErrors({ port: 70000 })).toEqual([{ path: 'spec.http[0].match[0].port', message: 'port number 70000 must be in the range 1..65535' }]);
  });

  it('allows JWT claim routing only on gateways', () => {
    expect(matchErrors({ headers: { '@request.auth.claims.group': { exact: 'admin' } } })).toEqual([
      { path: 'spec.http[0].match[0].headers["@request.auth.claims.group"]', message: 'JWT claim based routing (key: @request.auth.claims.group) is only supported for gateway' },
    ]);
    expect(errors({ hosts: ['a.com'], gateways: ['gw'], http: [{ match: [{ headers: { '@request.auth.claims.group': { exact: 'admin' } } }], ...routeTo() }] })).toEqual([]);
  });

  it('warns about rules that can never match', () => {
    expect(warnings({ hosts: ['a'], http: [routeTo(), { match: [{ uri: { prefix: '/x' } }], ...routeTo() }] })).toEqual([
      { path: 'spec.http[1]', message: 'virtualService rule #1 not used (route without matches defined before)' },
    ]);
    expect(warnings({ hosts: ['a'], http: [{ name: 'first', match: [{ uri: { exact: '/x' } }], ...routeTo() }, { match: [{ name: 'again', uri: { exact: '/x' } }], ...routeTo() }] })).toEqual([
      { path: 'spec.http[1].match[0]', message: 'virtualService rule #1 match "again" is not used (duplicate/overlapping match in rule "first")' },
      { path: 'spec.http[1]', message: 'virtualService rule #1 not used (all matches used by prior rules)' },
    ]);
  });
});

describe('timeouts, retries, faults, mirrors, CORS and headers', () => {
  it('checks durations: Go syntax, at least 1ms, whole milliseconds', () => {
    expect(routeErrors({ ...routeTo(), timeout: '1.5s', retries: { attempts: 3, perTryTimeout: '500ms' } })).toEqual([]);
    expect(routeErrors({ ...routeTo(), timeout: '0s' })).toEqual([{ path: 'spec.http[0].timeout', message: 'duration must be at least 1ms, got "0s"' }]);
    expect(routeErrors({ ...routeTo(), timeout: '1.5ms' })).toEqual([{ path: 'spec.http[0].timeout', message: 'only durations to ms precision are supported, got "1.5ms"' }]);
    expect(routeErrors({ ...routeTo(), timeout: '10 seconds' })).toEqual([
      { path: 'spec.http[0].timeout', message: 'must be a duration like "1s", "500ms", "1m" or "1h30m", got "10 seconds"' },
    ]);
  });

  it('checks retries', () => {
    expect(routeErrors({ ...routeTo(), retries: { attempts: -1 } })).toEqual([{ path: 'spec.http[0].retries.attempts', message: 'attempts cannot be negative' }]);
    expect(routeErrors({ ...routeTo(), retries: { attempts: 0, perTryTimeout: '1s' } })).toEqual([
      { path: 'spec.http[0].retries', message: 'http retry policy configured when attempts are set to 0 (disabled)' },
    ]);
    expect(routeErrors({ ...routeTo(), retries: { attempts: 2, retryOn: '5xx,gateway-error,503,bogus' } })).toEqual([
      { path: 'spec.http[0].retries.retryOn', message: '"bogus" is not a valid retryOn policy' },
    ]);
  });

  it('checks fault injection', () => {
    expect(routeErrors({ ...routeTo(), fault: { delay: { fixedDelay: '7s', percentage: { value: 100 } }, abort: { httpStatus: 555, percentage: { value: 0.5 } } } })).toEqual([]);
    expect(routeErrors({ ...routeTo(), fault: {} })).toEqual([{ path: 'spec.http[0].fault', message: 'HTTP fault injection must have an abort and/or a delay' }]);
    expect(routeErrors({ ...routeTo(), fault: { abort: { httpStatus: 700, percentage: { value: 101 } } } })).toEqual([
      { path: 'spec.http[0].fault.abort.percentage.value', message: 'percentage 101 is neither 0.0, nor in range [0.0001, 100.0]' },
      { path: 'spec.http[0].fault.abort.httpStatus', message: 'HTTP status 700 is not in range 200-599' },
    ]);
    expect(routeErrors({ ...routeTo(), fault: { abort: { grpcStatus: 'NOPE' } } })).toEqual([
      { path: 'spec.http[0].fault.abort.grpcStatus', message: 'gRPC status "NOPE" is not supported, use a code name such as NOT_FOUND or UNAVAILABLE' },
    ]);
    expect(routeErrors({ ...routeTo(), fault: { abort: { httpStatus: 500, grpcStatus: 'UNAVAILABLE' } } })).toEqual([
      { path: 'spec.http[0].fault.abort', message: 'only one of httpStatus, grpcStatus, http2Error may be set, found httpStatus and grpcStatus' },
    ]);
    expect(routeErrors({ ...routeTo(), fault: { delay: { fixedDelay: '0.1ms', percentage: { value: 0.00001 } } } })).toEqual([
      { path: 'spec.http[0].fault.delay.percentage.value', message: 'percentage 0.00001 is neither 0.0, nor in range [0.0001, 100.0]' },
      { path: 'spec.http[0].fault.delay.fixedDelay', message: 'duration must be at least 1ms, got "0.1ms"' },
    ]);
    expect(routeErrors({ ...routeTo(), fault: { delay: { percentage: { value: 10 } } } })).toEqual([
      { path: 'spec.http[0].fault.delay.fixedDelay', message: 'fixedDelay is required for a delay fault' },
    ]);
  });

  it('accepts deprecated fields with a warning', () => {
    const res = check({
      hosts: ['a'],
      http: [{ ...routeTo(), mirror: { host: 'b' }, mirrorPercent: 50, fault: { delay: { fixedDelay: '1s', percent: 10 } }, corsPolicy: { allowOrigin: ['https://x.com'] } }],
    });
    expect(errorsOf(res)).toEqual([]);
    expect(res.objects).toHaveLength(1);
    expect(warningsOf(res)).toEqual([
      { path: 'spec.http[0].mirrorPercent', message: 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead' },
      { path: 'spec.http[0].fault.delay.percent', message: 'using deprecated setting "percent", use "percentage" instead' },
      { path: 'spec.http[0].corsPolicy.allowOrigin', message: 'using deprecated setting "allowOrigin", use "allowOrigins" instead' },
    ]);
  });

  it('checks mirrors', () => {
    expect(routeErrors({ ...routeTo(), mirror: { host: 'b' }, mirrors: [{ destination: { host: 'c' } }] })).toEqual([
      { path: 'spec.http[0]', message: 'HTTP route cannot contain both mirror and mirrors' },
    ]);
    expect(routeErrors({ ...routeTo(), mirrorPercent: 150, mirrorPercentage: { value: -1 } })).toEqual([
      { path: 'spec.http[0].mirrorPercent', message: 'mirror_percent must have a max value of 100 (it has 150)' },
      { path: 'spec.http[0].mirrorPercentage.value', message: 'mirror percentage must have a min value of 0 (it has -1)' },
    ]);
    expect(routeErrors({ ...routeTo(), mirrors: [{ percentage: { value: 10 } }] })).toEqual([
      { path: 'spec.http[0].mirrors[0].destination', message: 'destination is required for mirrors' },
    ]);
  });

  it('checks CORS', () => {
    expect(routeErrors({ ...routeTo(), corsPolicy: { allowOrigins: [{ exact: 'https://a.com' }, { regex: '.*\\.a\\.com' }], allowMethods: ['GET'], maxAge: '24h' } })).toEqual([]);
    expect(routeErrors({ ...routeTo(), corsPolicy: { allowOrigins: [{}], allowMethods: ['FETCH'], allowHeaders: ['bad header'], maxAge: '1.5s' } })).toEqual([
      { path: 'spec.http[0].corsPolicy.allowOrigins[0]', message: "'' is not a valid match type for CORS allow origins" },
      { path: 'spec.http[0].corsPolicy.allowMethods[0]', message: '"FETCH" is not a supported HTTP method' },
      { path: 'spec.http[0].corsPolicy.allowHeaders[0]', message: 'header name bad header is not a valid header name' },
      { path: 'spec.http[0].corsPolicy.maxAge', message: 'max_age duration is accurate only to seconds precision' },
    ]);
  });

  it('checks header operations', () => {
    expect(routeErrors({ ...routeTo(), headers: { request: { set: { 'x-a': '%HOSTNAME%', 'x-b': '100%%' }, remove: ['x-c'] }, response: { add: { 'x-d': 'v' } } } })).toEqual([]);
    expect(routeErrors({ ...routeTo(), headers: { request: { set: { ':path': '/x', 'x-a': 'abc%123' } }, response: { set: { host: 'h' }, remove: [':status'] } } })).toEqual([
      { path: 'spec.http[0].headers.request.set[":path"]', message: 'invalid header ":path": header cannot have ":" prefix' },
      { path: 'spec.http[0].headers.request.set.x-a', message: 'header value "abc%123" has an unterminated "%" (write "%%" for a literal percent sign)' },
      { path: 'spec.http[0].headers.response.set.host', message: 'invalid header "host": cannot set Host header' },
      { path: 'spec.http[0].headers.response.remove[0]', message: 'invalid header ":status": header cannot have ":" prefix' },
    ]);
  });
});

describe('TLS and TCP routes', () => {
  it('accepts valid ones', () => {
    expect(errors({ hosts: ['*.example.com'], tls: [{ match: [{ sniHosts: ['a.example.com'], port: 443 }], route: [{ destination: { host: 'a.example.com' } }] }] })).toEqual([]);
    expect(errors({ hosts: ['db'], tcp: [{ match: [{ port: 3306, destinationSubnets: ['10.0.0.0/8'] }], route: [{ destination: { host: 'db' } }] }] })).toEqual([]);
  });

  it('checks SNI hosts, subnets and required parts', () => {
    expect(errors({ hosts: ['a.com'], tls: [{ match: [{ sniHosts: ['b.com'] }], route: [] }, { match: [], route: [{ destination: { host: 'a.com' } }] }] })).toEqual([
      { path: 'spec.tls[0].match[0].sniHosts[0]', message: 'SNI host "b.com" is not a compatible subset of any of the virtual service hosts: [a.com]' },
      { path: 'spec.tls[0].route', message: 'TLS route is required' },
      { path: 'spec.tls[1].match', message: 'TLS route must have at least one match condition' },
    ]);
    expect(errors({ hosts: ['db'], tcp: [{ match: [{ destinationSubnets: ['10.0.0.0/33'] }] }] })).toEqual([
      { path: 'spec.tcp[0].match[0].destinationSubnets[0]', message: '10.0.0.0/33 is not a valid CIDR block' },
      { path: 'spec.tcp[0].route', message: 'TCP route is required' },
    ]);
  });
});
