import { describe, expect, test } from 'vitest';
import {
  injectSidecar,
  injectionDecision,
  injectionPatch,
  workloadNameOf,
  type InjectablePod,
  type InjectionContext,
  type JsonPatchOp,
} from '../../src/inject/index.js';

const ctx = (namespaceLabels: Record<string, string>, extra: Partial<InjectionContext> = {}): InjectionContext => ({
  namespaceLabels,
  controlPlane: '127.0.0.1:15010',
  proxyCommand: ['node', '/opt/trellis/bin/trellis.js', 'proxy'],
  ...extra,
});
const ENABLED = { 'istio-injection': 'enabled' };

function pod(meta: Partial<InjectablePod['metadata']> = {}): InjectablePod {
  return {
    metadata: { name: 'reviews-v1-abcde-xyz12', namespace: 'shop', labels: { app: 'reviews', version: 'v1' }, ...meta },
    spec: {
      containers: [
        {
          name: 'reviews',
          command: ['node', 'reviews.mjs'],
          env: [{ name: 'LOG_LEVEL', value: 'debug' }],
          ports: [{ name: 'http', containerPort: 9080 }, { containerPort: 9443 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }],
        },
        { name: 'metrics', command: ['node', 'metrics.mjs'], ports: [{ name: 'metrics', containerPort: 9100 }] },
      ],
    },
  };
}

describe("Istio's injection policy", () => {
  const cases: [string, Record<string, string>, Partial<InjectablePod['metadata']>, boolean][] = [
    ['namespace enabled', ENABLED, {}, true],
    ['namespace enabled, pod label false', ENABLED, { labels: { 'sidecar.istio.io/inject': 'false' } }, false],
    ['namespace enabled, pod annotation false', ENABLED, { annotations: { 'sidecar.istio.io/inject': 'false' } }, false],
    ['namespace enabled, label true wins over annotation false', ENABLED,
      { labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'sidecar.istio.io/inject': 'false' } }, true],
    ['namespace enabled, label "no" (not a true value)', ENABLED, { labels: { 'sidecar.istio.io/inject': 'no' } }, false],
    ['namespace enabled, label "yes"', ENABLED, { labels: { 'sidecar.istio.io/inject': 'yes' } }, true],
    ['no namespace label, pod label true', {}, { labels: { 'sidecar.istio.io/inject': 'true' } }, true],
    ['no namespace label, only the annotation true', {}, { annotations: { 'sidecar.istio.io/inject': 'true' } }, false],
    ['no labels at all', {}, {}, false],
    ['namespace disabled, pod label true', { 'istio-injection': 'disabled' }, { labels: { 'sidecar.istio.io/inject': 'true' } }, false],
    ['kube-system, even when enabled', ENABLED, { namespace: 'kube-system' }, false],
  ];
  test.each(cases)('%s', (_name, nsLabels, meta, expected) => {
    const p = pod(meta);
    expect(injectionDecision(p.metadata, nsLabels).inject).toBe(expected);
    const result = injectSidecar(p, ctx(nsLabels));
    expect(result.injected).toBe(expected);
    expect(result.spec.containers.some((c) => c.name === 'trellis-proxy')).toBe(expected);
  });

  test('hostNetwork pods are never injected', () => {
    const p = pod();
    p.spec.hostNetwork = true;
    const r = injectSidecar(p, ctx(ENABLED));
    expect(r.injected).toBe(false);
    expect(r.reason).toMatch(/hostNetwork/);
  });

  test('the reason says which setting decided', () => {
    expect(injectSidecar(pod(), ctx(ENABLED)).reason).toBe('namespace shop has istio-injection=enabled');
    expect(injectSidecar(pod({ labels: { 'sidecar.istio.io/inject': 'false' } }), ctx(ENABLED)).reason).toBe(
      'pod label sidecar.istio.io/inject=false',
    );
  });

  test('a pod is injected once: an existing trellis-proxy container or status annotation stops it', () => {
    const once = injectSidecar(pod(), ctx(ENABLED));
    const twice = injectSidecar({ metadata: pod().metadata, spec: once.spec }, ctx(ENABLED));
    expect(twice.injected).toBe(false);
    expect(twice.spec.containers.filter((c) => c.name === 'trellis-proxy')).toHaveLength(1);
    const annotated = injectSidecar(pod({ annotations: { 'sidecar.istio.io/status': '{}' } }), ctx(ENABLED));
    expect(annotated.injected).toBe(false);
  });
});

describe('the injected pod spec', () => {
  const input = pod();
  const inputCopy = structuredClone(input);
  const result = injectSidecar(input, ctx(ENABLED, { workloadName: 'reviews-v1' }));
  const sidecar = result.spec.containers.at(-1)!;

  test('does not touch its input', () => {
    expect(input).toEqual(inputCopy);
  });

  test('adds trellis-proxy last, running the proxy command with its identity from the downward API', () => {
    expect(result.spec.containers.map((c) => c.name)).toEqual(['reviews', 'metrics', 'trellis-proxy']);
    expect(sidecar.command).toEqual(['node', '/opt/trellis/bin/trellis.js', 'proxy']);
    expect(sidecar.env).toEqual([
      { name: 'TRELLIS_CONTROL_PLANE', value: '127.0.0.1:15010' },
      { name: 'TRELLIS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'TRELLIS_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'TRELLIS_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'TRELLIS_WORKLOAD', value: 'reviews-v1' },
      { name: 'TRELLIS_LABELS', value: '{"app":"reviews","version":"v1"}' },
      // TCP ports of every app container; UDP 53 is not the sidecar's business.
      { name: 'TRELLIS_APP_PORTS', value: 'http:9080,9443,metrics:9100' },
    ]);
    expect(sidecar.ports).toEqual([{ name: 'http-envoy-prom', containerPort: 15090, protocol: 'TCP' }]);
    expect((sidecar as { readinessProbe?: unknown }).readinessProbe).toMatchObject({ httpGet: { path: '/healthz/ready', port: 15021 } });
    expect(sidecar.image).toBeUndefined();
  });

  test('points every app container at the sidecar, after its own env and with POD_IP defined first', () => {
    const outbound = [
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'HTTP_PROXY', value: 'http://$(POD_IP):15001' },
      { name: 'TRELLIS_OUTBOUND', value: 'http://$(POD_IP):15001' },
    ];
    expect(result.spec.containers[0]!.env).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }, ...outbound]);
    expect(result.spec.containers[1]!.env).toEqual(outbound);
  });

  test("keeps an app's own POD_IP and HTTP_PROXY", () => {
    const p = pod();
    p.spec.containers[0]!.env = [{ name: 'POD_IP', value: '10.0.0.9' }, { name: 'HTTP_PROXY', value: 'http://corp:3128' }];
    const env = injectSidecar(p, ctx(ENABLED)).spec.containers[0]!.env!;
    expect(env.map((e) => e.name)).toEqual(['POD_IP', 'HTTP_PROXY', 'TRELLIS_OUTBOUND']);
    expect(env[1]!.value).toBe('http://corp:3128');
  });

  test('kubernetes mode leaves app containers alone (iptables captures their traffic)', () => {
    const r = injectSidecar(pod(), ctx(ENABLED, { mode: 'kubernetes', image: 'trellis/proxy:0.1.0' }));
    expect(r.spec.containers[0]).toEqual(pod().spec.containers[0]);
    expect(r.spec.containers.at(-1)!.image).toBe('trellis/proxy:0.1.0');
  });
});

describe('workload names, as Istio derives them', () => {
  test('from a ReplicaSet owner, without the pod-template-hash', () => {
    const p = pod({ labels: { 'pod-template-hash': '7d9c8f6b5d' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'reviews-v1-7d9c8f6b5d', controller: true }] });
    expect(workloadNameOf(p)).toBe('reviews-v1');
  });
  test('from another controller, from generateName, then the app label', () => {
    expect(workloadNameOf(pod({ ownerReferences: [{ kind: 'StatefulSet', name: 'db', controller: true }] }))).toBe('db');
    expect(workloadNameOf(pod({ generateName: 'batch-' }))).toBe('batch');
    expect(workloadNameOf(pod())).toBe('reviews');
    expect(injectSidecar(pod(), ctx(ENABLED)).spec.containers.at(-1)!.env!.find((e) => e.name === 'TRELLIS_WORKLOAD')!.value).toBe('reviews');
  });
});

/** Just enough RFC 6902 `add` (with RFC 6901 pointers) to check the webhook's patch. */
function applyPatch(doc: unknown, ops: JsonPatchOp[]): unknown {
  const out = structuredClone(doc) as Record<string, unknown>;
  for (const op of ops) {
    expect(op.op).toBe('add');
    const segments = op.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = segments.pop()!;
    let target: any = out;
    for (const s of segments) {
      expect(target[s], `${op.path}: parent must exist`).toBeDefined();
      target = target[s];
    }
    if (Array.isArray(target)) {
      if (last === '-') target.push(op.value);
      else target.splice(Number(last), 0, op.value);
    } else target[last] = op.value;
  }
  return out;
}

describe('the webhook patch', () => {
  test('applied to the pod, gives the injected spec and the sidecar status annotation', () => {
    const p = pod({ annotations: { team: 'books' } });
    const ops = injectionPatch(p, ctx(ENABLED));
    const patched = applyPatch(p, ops) as InjectablePod;
    expect(patched.spec).toEqual(injectSidecar(p, ctx(ENABLED)).spec);
    expect(patched.metadata.annotations).toEqual({ team: 'books', 'sidecar.istio.io/status': '{"containers":["trellis-proxy"]}' });
    // Existing env lists are appended to item by item; a container without env gets the whole list.
    expect(ops.filter((o) => o.path === '/spec/containers/0/env/-')).toHaveLength(3);
    expect(ops.filter((o) => o.path === '/spec/containers/1/env')).toHaveLength(1);
    expect(ops.some((o) => o.path === '/metadata/annotations/sidecar.istio.io~1status')).toBe(true);
  });

  test('creates the annotations map when the pod has none, and is empty when nothing is injected', () => {
    const p = pod();
    const patched = applyPatch(p, injectionPatch(p, ctx(ENABLED))) as InjectablePod;
    expect(patched.metadata.annotations).toEqual({ 'sidecar.istio.io/status': '{"containers":["trellis-proxy"]}' });
    expect(injectionPatch(p, ctx({}))).toEqual([]);
  });
});
