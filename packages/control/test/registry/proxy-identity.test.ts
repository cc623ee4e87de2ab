import { describe, expect, test } from 'vitest';
import { jsonToStruct } from '@trellis/envoy-api';
import { parseNode, workloadFromProxy } from '../../src/registry/proxy-identity.js';

describe('parseNode', () => {
  test('reads Istio node metadata', () => {
    const p = parseNode({
      id: 'sidecar~127.0.1.2~reviews-v1-0.default~default.svc.cluster.local',
      cluster: 'reviews',
      metadata: jsonToStruct({
        NAMESPACE: 'default',
        NAME: 'reviews-v1-0',
        LABELS: { app: 'reviews', version: 'v1' },
        INSTANCE_IPS: '127.0.1.2, 10.0.0.2',
        WORKLOAD_NAME: 'reviews-v1',
        POD_PORTS: JSON.stringify([{ name: 'http', containerPort: 9080, protocol: 'TCP' }, { containerPort: 9090 }]),
      }),
    });
    expect(p).toEqual({
      id: 'sidecar~127.0.1.2~reviews-v1-0.default~default.svc.cluster.local',
      type: 'sidecar',
      namespace: 'default',
      podName: 'reviews-v1-0',
      workloadName: 'reviews-v1',
      labels: { app: 'reviews', version: 'v1' },
      ips: ['127.0.1.2', '10.0.0.2'],
      ports: [{ name: 'http', containerPort: 9080, protocol: 'TCP' }, { containerPort: 9090 }],
      listenerPorts: { outbound: 15001, inbound: 15006 },
    });
  });

  test("a sidecar on other listener ports says so, and its endpoint follows", () => {
    const p = parseNode({
      id: 'sidecar~127.0.1.9~a-0.default~default.svc.cluster.local',
      cluster: '',
      metadata: jsonToStruct({ TRELLIS_OUTBOUND_PORT: 25001, TRELLIS_INBOUND_PORT: 25006, INSTANCE_IPS: '127.0.1.9' }),
    });
    expect(p.listenerPorts).toEqual({ outbound: 25001, inbound: 25006 });
    expect(workloadFromProxy(p)?.sidecar).toEqual({ inboundPort: 25006 });
    expect(parseNode({ id: 'x', cluster: '', metadata: jsonToStruct({ TRELLIS_INBOUND_PORT: 'nope' }) }).listenerPorts.inbound).toBe(15006);
  });

  test('falls back to the node id when metadata is missing', () => {
    const p = parseNode({ id: 'router~10.1.2.3~ingress-abc.istio-system~istio-system.svc.cluster.local', cluster: '' });
    expect(p).toMatchObject({ type: 'router', namespace: 'istio-system', podName: 'ingress-abc', workloadName: 'ingress-abc', ips: ['10.1.2.3'], labels: {}, ports: [] });
  });

  test('GENERATOR=grpc is a proxyless gRPC client', () => {
    const p = parseNode({ id: 'sidecar~127.0.0.1~client.prod~prod.svc.cluster.local', cluster: '', metadata: jsonToStruct({ GENERATOR: 'grpc' }) });
    expect(p).toMatchObject({ type: 'grpc', namespace: 'prod', podName: 'client' });
  });

  test('an id that is not in Istio form still yields an identity', () => {
    expect(parseNode({ id: 'my-proxy', cluster: '' })).toMatchObject({ namespace: 'default', podName: 'my-proxy', ips: [], type: 'sidecar' });
    expect(parseNode({ id: '', cluster: '', metadata: jsonToStruct({ POD_PORTS: 'not json', LABELS: 'nope' }) })).toMatchObject({ namespace: 'default', ports: [], labels: {} });
  });
});

describe('workloadFromProxy', () => {
  const sidecar = parseNode({
    id: 'sidecar~127.0.1.2~reviews-v1-0.default~default.svc.cluster.local',
    cluster: '',
    metadata: jsonToStruct({ LABELS: { app: 'reviews' }, WORKLOAD_NAME: 'reviews-v1', POD_PORTS: '[{"name":"http","containerPort":9080},{"containerPort":1}]' }),
  });

  test('a sidecar is a workload fronted by its inbound port, with named ports', () => {
    expect(workloadFromProxy(sidecar)).toEqual({
      uid: 'xds/sidecar~127.0.1.2~reviews-v1-0.default~default.svc.cluster.local',
      name: 'reviews-v1-0',
      namespace: 'default',
      workloadName: 'reviews-v1',
      address: '127.0.1.2',
      labels: { app: 'reviews' },
      ports: { http: 9080 },
      kind: 'Pod',
      sidecar: { inboundPort: 15006 },
      locality: '',
      weight: 1,
      source: 'xds',
    });
  });

  test('gRPC clients and routers are reached directly; no IP, no workload', () => {
    expect(workloadFromProxy({ ...sidecar, type: 'grpc' })?.sidecar).toBeUndefined();
    expect(workloadFromProxy({ ...sidecar, type: 'router' })?.sidecar).toBeUndefined();
    expect(workloadFromProxy({ ...sidecar, ips: [] })).toBeUndefined();
  });
});
