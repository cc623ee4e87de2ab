import { describe, expect, test } from 'vitest';
import { parseNode } from '@trellis/control';
import { sidecarIdentity, toXdsNode, xdsNodeId } from '../../src/bootstrap/identity.js';

// Gateway mode's xDS identity: Istio's router node id and metadata, as the control plane reads them.
describe('gateway (router) identity', () => {
  const env = {
    TRELLIS_PROXY_TYPE: 'router',
    TRELLIS_POD_IP: '127.0.190.30',
    TRELLIS_POD_NAME: 'istio-ingressgateway-abc-0',
    TRELLIS_NAMESPACE: 'istio-system',
    TRELLIS_LABELS: '{"istio":"ingressgateway","app":"istio-ingressgateway"}',
  };

  test('node id router~IP~pod.ns~ns.svc.cluster.local; labels and IPs in Istio\'s keys; no capture-port keys', () => {
    const id = sidecarIdentity(env);
    expect(xdsNodeId(id)).toBe('router~127.0.190.30~istio-ingressgateway-abc-0.istio-system~istio-system.svc.cluster.local');
    const node = toXdsNode(id);
    const fields = Object.keys((node.metadata as { fields: Record<string, unknown> }).fields);
    expect(fields).toEqual(expect.arrayContaining(['NAMESPACE', 'NAME', 'LABELS', 'INSTANCE_IPS', 'WORKLOAD_NAME']));
    expect(fields).not.toContain('TRELLIS_INBOUND_PORT');
    expect(fields).not.toContain('TRELLIS_OUTBOUND_PORT');
  });

  test('the control plane reads it as a router with its labels (what Gateway selectors match)', () => {
    const proxy = parseNode(toXdsNode(sidecarIdentity(env)));
    expect(proxy).toMatchObject({
      type: 'router',
      namespace: 'istio-system',
      podName: 'istio-ingressgateway-abc-0',
      workloadName: 'istio-ingressgateway',
      labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
      ips: ['127.0.190.30'],
    });
  });

  test('--proxy-type takes only sidecar or router', () => {
    expect(() => sidecarIdentity({ ...env, TRELLIS_PROXY_TYPE: 'gateway' })).toThrow(/proxy type must be "sidecar" or "router"/);
  });
});
