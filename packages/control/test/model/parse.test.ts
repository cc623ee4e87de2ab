import { describe, expect, it } from 'vitest';
import { formatIssue, parseConfigText } from '@trellis/control';
import { errorsOf, parseObjects, virtualService, warningsOf, routeTo } from './helpers.js';

const VS = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
`;

describe('documents', () => {
  it('keeps document indexes true to the file, skipping empty documents', () => {
    const text = `# leading comment\n---\n${VS}---\n---\n# only a comment\n---\n${VS.replace('name: reviews', 'name: second')}---\n`;
    const { objects, issues } = parseConfigText(text, 'f.yaml');
    expect(issues).toEqual([]);
    expect(objects.map((o) => [o.metadata.name, o.origin])).toEqual([
      ['reviews', { file: 'f.yaml', doc: 0 }],
      ['second', { file: 'f.yaml', doc: 3 }],
    ]);
  });

  it('returns nothing for empty text', () => {
    expect(parseConfigText('', 'f.yaml')).toEqual({ objects: [], issues: [] });
    expect(parseConfigText('# nothing\n', 'f.yaml')).toEqual({ objects: [], issues: [] });
  });

  it('reads JSON', () => {
    const { objects, issues } = parseConfigText(JSON.stringify(virtualService({ hosts: ['a'], http: [routeTo('a')] })), 'f.json');
    expect(issues).toEqual([]);
    expect(objects).toHaveLength(1);
  });

  it('expands kind: List items, with paths under items[i]', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [virtualService({ hosts: ['a'], http: [routeTo('a')] }, 'one'), virtualService({ hosts: ['b'], http: [{ route: [{ destination: { host: 'b' }, weight: -1 }] }] }, 'two')],
    };
    const res = parseObjects(list);
    expect(res.objects.map((o) => o.metadata.name)).toEqual(['one']);
    expect(errorsOf(res)).toEqual([{ path: 'items[1].spec.http[0].route[0].weight', message: 'weight -1 < 0' }]);
    expect(res.issues[0]).toMatchObject({ doc: 0, object: 'VirtualService/ns/two' });
  });

  it('resolves YAML anchors and merge keys', () => {
    const text = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r}
spec:
  host: reviews
  subsets:
  - name: v1
    labels: &common {app: reviews, version: v1}
  - name: v2
    labels:
      <<: *common
      version: v2
`;
    const { objects, issues } = parseConfigText(text, 'f.yaml');
    expect(issues).toEqual([]);
    expect(objects[0]).toMatchObject({ spec: { subsets: [{ labels: { app: 'reviews', version: 'v1' } }, { labels: { app: 'reviews', version: 'v2' } }] } });
  });
});

describe('YAML syntax errors', () => {
  it('names the file, document and line', () => {
    const text = `${VS}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels: {a: 1\nspec: {}\n`;
    const { objects, issues } = parseConfigText(text, 'bad.yaml');
    expect(objects.map((o) => o.metadata.name)).toEqual(['reviews']);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', file: 'bad.yaml', doc: 1, line: 16 });
    expect(issues[0]!.message).toMatch(/^YAML syntax error at line 16, column \d+: /);
  });

  it('reports duplicate keys', () => {
    const { issues } = parseConfigText('apiVersion: v1\nkind: Namespace\nkind: Namespace\n', 'dup.yaml');
    expect(issues.map(formatIssue)).toEqual(['error: dup.yaml:3#0: YAML syntax error at line 3, column 1: Map keys must be unique']);
  });

  it('reports a document that is not a mapping', () => {
    expect(errorsOf(parseConfigText('- a\n- b\n', 'f.yaml'))).toEqual([
      { path: undefined, message: 'a Kubernetes object (a mapping with apiVersion and kind) is expected, got a list' },
    ]);
  });
});

describe('kinds and apiVersions', () => {
  it.each(['v1', 'v1beta1', 'v1alpha3'])('accepts networking.istio.io/%s', (version) => {
    const res = parseObjects({ ...virtualService({ hosts: ['a'], http: [routeTo('a')] }), apiVersion: `networking.istio.io/${version}` });
    expect(res.issues).toEqual([]);
    expect(res.objects[0]!.apiVersion).toBe(`networking.istio.io/${version}`);
  });

  it('rejects an unknown version of a known kind', () => {
    const res = parseObjects({ ...virtualService({ hosts: ['a'], http: [routeTo('a')] }), apiVersion: 'networking.istio.io/v2' });
    expect(res.objects).toEqual([]);
    expect(res.issues).toEqual([
      expect.objectContaining({
        severity: 'error',
        object: 'VirtualService/ns/r',
        path: 'apiVersion',
        message: 'apiVersion networking.istio.io/v2 is not supported for VirtualService (use networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3)',
      }),
    ]);
    expect(errorsOf(parseObjects({ apiVersion: 'apps/v1beta2', kind: 'Deployment', metadata: { name: 'd' }, spec: {} }))).toEqual([
      { path: 'apiVersion', message: 'apiVersion apps/v1beta2 is not supported for Deployment (use apps/v1)' },
    ]);
  });

  it.each([
    ['networking.istio.io/v1', 'Sidecar'],
    ['networking.istio.io/v1alpha3', 'EnvoyFilter'],
    ['networking.istio.io/v1', 'WorkloadGroup'],
    ['networking.istio.io/v1beta1', 'ProxyConfig'],
    ['security.istio.io/v1', 'PeerAuthentication'],
    ['security.istio.io/v1', 'AuthorizationPolicy'],
    ['security.istio.io/v1', 'RequestAuthentication'],
    ['telemetry.istio.io/v1', 'Telemetry'],
    ['v1', 'ServiceAccount'],
    ['v1', 'ConfigMap'],
    ['gateway.networking.k8s.io/v1', 'Gateway'],
    ['example.com/v1', 'VirtualService'],
  ])('warns about %s %s and ignores it', (apiVersion, kind) => {
    const res = parseObjects({ apiVersion, kind, metadata: { name: 'x', namespace: 'team' }, spec: { anything: true } });
    expect(res.objects).toEqual([]);
    expect(res.issues).toEqual([
      { severity: 'warning', file: 'test.yaml', doc: 0, object: `${kind}/team/x`, line: 1, message: `unsupported kind ${apiVersion}/${kind}, ignored` },
    ]);
  });

  it('requires kind and apiVersion', () => {
    expect(errorsOf(parseObjects({ apiVersion: 'v1', metadata: { name: 'x' } }))).toEqual([{ path: 'kind', message: 'kind is required' }]);
    expect(errorsOf(parseObjects({ kind: 'Service', metadata: { name: 'x' } }))).toEqual([{ path: 'apiVersion', message: 'apiVersion is required' }]);
  });
});

describe('metadata', () => {
  it('defaults the namespace for namespaced kinds, and labels and annotations to {}', () => {
    const res = parseObjects(
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'r' }, spec: { host: 'a' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { 'istio-injection': 'enabled' } } },
    );
    expect(res.issues).toEqual([]);
    expect(res.objects.map((o) => o.metadata)).toEqual([
      { name: 'r', namespace: 'default', labels: {}, annotations: {} },
      { name: 'team', namespace: '', labels: { 'istio-injection': 'enabled' }, annotations: {} },
    ]);
  });

  it('requires a name and checks it', () => {
    expect(errorsOf(parseObjects({ apiVersion: 'v1', kind: 'Namespace', metadata: {} }))).toEqual([
      { path: 'metadata.name', message: 'metadata.name is required' },
    ]);
    expect(errorsOf(parseObjects({ apiVersion: 'v1', kind: 'Namespace' }))).toEqual([
      { path: 'metadata.name', message: 'metadata.name is required' },
    ]);
    expect(errorsOf(parseObjects(virtualService({ hosts: ['a'], http: [routeTo('a')] }, 'Bad_Name')))).toEqual([
      {
        path: 'metadata.name',
        message: `invalid name: "Bad_Name" must be a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character`,
      },
    ]);
    expect(errorsOf(parseObjects({ apiVersion: 'v1', kind: 'Service', metadata: { name: '1svc' }, spec: { ports: [{ port: 80 }] } }))[0]!.message).toMatch(
      /^invalid name: "1svc" must be a lowercase RFC 1035 label/,
    );
  });

  it('checks namespaces, labels and annotations', () => {
    const res = parseObjects({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'My_NS', labels: { app: 'x', version: 1, 'bad key!': 'v' }, annotations: { note: true } },
      spec: { ports: [{ port: 80 }] },
    });
    expect(errorsOf(res)).toEqual([
      { path: 'metadata.namespace', message: expect.stringMatching(/^invalid namespace: "My_NS" must be a lowercase RFC 1123 label/) },
      { path: 'metadata.labels.version', message: 'must be a string, got 1 (quote it in YAML)' },
      { path: 'metadata.labels["bad key!"]', message: expect.stringMatching(/^invalid label key "bad key!"/) },
      { path: 'metadata.annotations.note', message: 'must be a string, got true (quote it in YAML)' },
    ]);
  });
});

describe('unknown fields', () => {
  it('warns about unknown top-level and metadata keys without rejecting the object', () => {
    const res = parseObjects({ ...virtualService({ hosts: ['a'], http: [routeTo('a')] }), extra: 1, metadata: { name: 'r', nmespace: 'x' } });
    expect(res.objects).toHaveLength(1);
    expect(warningsOf(res)).toEqual([
      { path: 'extra', message: 'unknown field "extra", ignored' },
      { path: 'metadata.nmespace', message: 'unknown field "nmespace" in metadata, ignored' },
    ]);
  });

  it('warns about unknown fields anywhere in an Istio spec and leaves them out of the typed object', () => {
    const res = parseObjects(
      virtualService({
        hosts: ['a'],
        htpp: [],
        http: [{ route: [{ destination: { host: 'a', subnet: 'v1' }, wieght: 10 }], timeout: '1s', retry: { attempts: 3 } }],
      }),
    );
    expect(warningsOf(res)).toEqual([
      { path: 'spec.htpp', message: 'unknown field "htpp" in VirtualService, ignored' },
      { path: 'spec.http[0].route[0].destination.subnet', message: 'unknown field "subnet" in Destination, ignored' },
      { path: 'spec.http[0].route[0].wieght', message: 'unknown field "wieght" in HTTPRouteDestination, ignored' },
      { path: 'spec.http[0].retry', message: 'unknown field "retry" in HTTPRoute, ignored' },
    ]);
    expect(res.objects[0]!.spec).toEqual({ hosts: ['a'], http: [{ route: [{ destination: { host: 'a' } }], timeout: '1s' }] });
  });

  it('accepts status and does not warn about it', () => {
    const res = parseObjects({ ...virtualService({ hosts: ['a'], http: [routeTo('a')] }), status: { conditions: [] } });
    expect(res.issues).toEqual([]);
  });
});

describe('types', () => {
  it('reports wrong types with the path, and rejects the object', () => {
    const res = parseObjects(virtualService({ hosts: 'a', http: [{ route: [{ destination: { host: 'a' }, weight: '50' }], timeout: 5 }] }));
    expect(res.objects).toEqual([]);
    expect(errorsOf(res)).toEqual([
      { path: 'spec.hosts', message: 'must be a list, got "a"' },
      { path: 'spec.http[0].route[0].weight', message: 'must be an integer, got "50"' },
      { path: 'spec.http[0].timeout', message: 'must be a duration like "1s", "500ms", "1m" or "1h30m", got 5' },
    ]);
  });

  it('treats null as absent, but not inside lists', () => {
    const res = parseObjects(virtualService({ hosts: ['a'], gateways: null, http: [routeTo('a'), null] }));
    expect(errorsOf(res)).toEqual([{ path: 'spec.http[1]', message: 'must not be null' }]);
  });

  it('rejects enum values Istio does not know', () => {
    const res = parseObjects({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'r' }, spec: { host: 'a', trafficPolicy: { loadBalancer: { simple: 'LEAST_CONNECTIONS' } } } });
    expect(errorsOf(res)).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.simple', message: 'must be one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST, got "LEAST_CONNECTIONS"' },
    ]);
  });
});

describe('issues', () => {
  it('carry file, document, object, path and line; warnings keep the object, errors drop it', () => {
    const text = `${VS}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bad
  namespace: team
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings, subset: v1}
      weight: 60
    - destination: {host: ratings, subset: v2}
      weight: -40
`;
    const { objects, issues } = parseConfigText(text, 'vs.yaml');
    expect(objects.map((o) => o.metadata.name)).toEqual(['reviews']);
    expect(issues).toEqual([
      { severity: 'error', file: 'vs.yaml', doc: 1, object: 'VirtualService/team/bad', path: 'spec.http[0].route[1].weight', line: 23, message: 'weight -40 < 0' },
    ]);
    expect(formatIssue(issues[0]!)).toBe('error: vs.yaml:23#1 VirtualService/team/bad spec.http[0].route[1].weight: weight -40 < 0');
  });

  it('point a missing field at its parent line', () => {
    const text = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\nspec:\n  subsets: []\n';
    expect(parseConfigText(text, 'dr.yaml').issues).toEqual([
      { severity: 'error', file: 'dr.yaml', doc: 0, object: 'DestinationRule/default/r', path: 'spec.host', line: 6, message: 'host is required' },
    ]);
  });
});
