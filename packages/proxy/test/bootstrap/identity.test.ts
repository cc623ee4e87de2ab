import { describe, expect, it } from 'vitest';
import { structToJson } from '@trellis/envoy-api';
import { IdentityError, sidecarIdentity, toXdsNode, xdsNodeId } from '../../src/bootstrap/identity.js';

const POD_ENV = {
  TRELLIS_CONTROL_PLANE: 'istiod.istio-system:15012',
  TRELLIS_NAMESPACE: 'bookinfo',
  TRELLIS_POD_NAME: 'reviews-v2-7d8f9-x2k4q',
  TRELLIS_WORKLOAD: 'reviews-v2',
  TRELLIS_LABELS: 'app=reviews,version=v2',
  TRELLIS_POD_IP: '127.0.1.7',
  TRELLIS_APP_PORTS: 'http:9080,grpc-api:9090',
};

function errorOf(fn: () => unknown): IdentityError {
  try {
    fn();
  } catch (err) {
    if (err instanceof IdentityError) return err;
    throw err;
  }
  throw new Error('expected an IdentityError');
}

describe('sidecarIdentity', () => {
  it('reads every TRELLIS_* variable', () => {
    const id = sidecarIdentity(POD_ENV);
    expect(id).toEqual({
      controlPlane: 'istiod.istio-system:15012',
      type: 'sidecar',
      namespace: 'bookinfo',
      podName: 'reviews-v2-7d8f9-x2k4q',
      workloadName: 'reviews-v2',
      labels: { app: 'reviews', version: 'v2' },
      podIp: '127.0.1.7',
      appPorts: [
        { name: 'http', containerPort: 9080, protocol: 'TCP' },
        { name: 'grpc-api', containerPort: 9090, protocol: 'TCP' },
      ],
      ports: { outbound: 15001, inbound: 15006, admin: 15000, health: 15021, metrics: 15090 },
    });
  });

  it("defaults to Istio's ports, a local control plane, the default namespace and 127.0.0.1", () => {
    const id = sidecarIdentity({ HOSTNAME: 'web-0' });
    expect(id.controlPlane).toBe('127.0.0.1:15010');
    expect(id.type).toBe('sidecar');
    expect(id.namespace).toBe('default');
    expect(id.podName).toBe('web-0');
    expect(id.workloadName).toBe('web-0');
    expect(id.podIp).toBe('127.0.0.1');
    expect(id.appPorts).toEqual([]);
    expect(id.labels).toEqual({});
  });

  it('falls back to the downward-API variables, and TRELLIS_* wins over them', () => {
    const k8s = { POD_NAMESPACE: 'shop', POD_NAME: 'cart-1', POD_IP: '10.1.2.3', HOSTNAME: 'ignored' };
    const id = sidecarIdentity(k8s);
    expect([id.namespace, id.podName, id.podIp]).toEqual(['shop', 'cart-1', '10.1.2.3']);
    const own = sidecarIdentity({ ...k8s, TRELLIS_NAMESPACE: 'mine', TRELLIS_POD_NAME: 'p', TRELLIS_POD_IP: '::1' });
    expect([own.namespace, own.podName, own.podIp]).toEqual(['mine', 'p', '::1']);
  });

  it('lets flags override the environment', () => {
    const id = sidecarIdentity(POD_ENV, {
      namespace: 'flagged',
      labels: { app: 'other' },
      appPorts: '8080',
      proxyType: 'router',
      adminPort: 25000,
      outboundPort: '25001',
      controlPlane: '[::1]:16010',
    });
    expect(id.namespace).toBe('flagged');
    expect(id.labels).toEqual({ app: 'other' });
    expect(id.appPorts).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    expect(id.type).toBe('router');
    expect(id.ports).toEqual({ outbound: 25001, inbound: 15006, admin: 25000, health: 15021, metrics: 15090 });
    expect(id.controlPlane).toBe('[::1]:16010');
  });

  it('takes labels as a JSON object, and names the workload after the app label when unset', () => {
    const id = sidecarIdentity({ TRELLIS_LABELS: '{"app":"ratings","example.com/tier":"backend"}', TRELLIS_POD_NAME: 'r-0' });
    expect(id.labels).toEqual({ app: 'ratings', 'example.com/tier': 'backend' });
    expect(id.workloadName).toBe('ratings');
  });

  it('adds the default port to a bare control-plane host', () => {
    expect(sidecarIdentity({ TRELLIS_CONTROL_PLANE: 'trellis.local' }).controlPlane).toBe('trellis.local:15010');
  });

  it('lets port overrides put several sidecars on one IP', () => {
    const env = { TRELLIS_OUTBOUND_PORT: '21001', TRELLIS_INBOUND_PORT: '21006', TRELLIS_ADMIN_PORT: '21000', TRELLIS_HEALTH_PORT: '21021', TRELLIS_METRICS_PORT: '21090' };
    expect(sidecarIdentity(env).ports).toEqual({ outbound: 21001, inbound: 21006, admin: 21000, health: 21021, metrics: 21090 });
  });

  describe('errors name the setting and the problem', () => {
    const cases: [string, Record<string, string>, Record<string, unknown>, string][] = [
      ['port not a number', { TRELLIS_ADMIN_PORT: '15k' }, {}, 'TRELLIS_ADMIN_PORT="15k": port "15k" is not an integer from 1 to 65535'],
      ['port out of range', {}, { inboundPort: 70000 }, '--inbound-port="70000": port 70000 is out of range 1-65535'],
      ['two proxy ports equal', { TRELLIS_HEALTH_PORT: '15000' }, {}, 'TRELLIS_HEALTH_PORT="15000": the health port is also the admin port'],
      ['app port is a proxy port', { TRELLIS_APP_PORTS: 'http:15006' }, {}, `TRELLIS_APP_PORTS="http:15006": app port 15006 is the sidecar's inbound port`],
      ['app port bad', { TRELLIS_APP_PORTS: 'http:80,grpc:x' }, {}, 'TRELLIS_APP_PORTS="http:80,grpc:x": port "x" is not an integer from 1 to 65535'],
      ['app port twice', { TRELLIS_APP_PORTS: '80,http:80' }, {}, 'TRELLIS_APP_PORTS="80,http:80": port 80 is listed twice'],
      ['app port name', { TRELLIS_APP_PORTS: 'HTTP:80' }, {}, `TRELLIS_APP_PORTS="HTTP:80": port name "HTTP" must be at most 15 lowercase letters, digits and '-' (as Kubernetes requires)`],
      ['label without =', { TRELLIS_LABELS: 'app=a,version' }, {}, 'TRELLIS_LABELS="app=a,version": "version" is not key=value'],
      ['label key', { TRELLIS_LABELS: '-app=a' }, {}, 'TRELLIS_LABELS="-app=a": label key "-app": name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric'],
      ['label value', { TRELLIS_LABELS: 'app=a b' }, {}, 'TRELLIS_LABELS="app=a b": label app: value "a b" must be at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric'],
      ['label twice', { TRELLIS_LABELS: 'app=a,app=b' }, {}, 'TRELLIS_LABELS="app=a,app=b": label app is given twice'],
      ['label JSON', { TRELLIS_LABELS: '{"app": 1}' }, {}, 'TRELLIS_LABELS="{\\"app\\": 1}": label app: value must be a string'],
      ['label JSON syntax', {}, { labels: '{app' }, '--labels="{app": not valid JSON'],
      ['pod IP', { POD_IP: '10.0.0.300' }, {}, 'POD_IP="10.0.0.300": not an IPv4 or IPv6 address'],
      ['proxy type', { TRELLIS_PROXY_TYPE: 'gateway' }, {}, 'TRELLIS_PROXY_TYPE="gateway": proxy type must be "sidecar" or "router"'],
      ['namespace', { TRELLIS_NAMESPACE: 'Book_Info' }, {}, 'TRELLIS_NAMESPACE="Book_Info": a namespace must be a DNS label'],
      ['control plane', { TRELLIS_CONTROL_PLANE: 'host:port' }, {}, 'TRELLIS_CONTROL_PLANE="host:port": port "port" is not an integer from 1 to 65535'],
    ];
    for (const [what, env, flags, message] of cases) {
      it(what, () => {
        const err = errorOf(() => sidecarIdentity(env, flags));
        expect(err.message.slice(0, message.length)).toBe(message);
      });
    }
  });
});

describe('toXdsNode', () => {
  it("writes Istio's node id and metadata keys", () => {
    const id = sidecarIdentity(POD_ENV);
    const node = toXdsNode(id);
    expect(node.id).toBe('sidecar~127.0.1.7~reviews-v2-7d8f9-x2k4q.bookinfo~bookinfo.svc.cluster.local');
    expect(xdsNodeId({ ...id, type: 'router' })).toMatch(/^router~127\.0\.1\.7~/);
    expect(node.cluster).toBe('reviews-v2.bookinfo');
    const md = structToJson(node.metadata);
    expect(md).toMatchObject({
      NAMESPACE: 'bookinfo',
      NAME: 'reviews-v2-7d8f9-x2k4q',
      LABELS: { app: 'reviews', version: 'v2' },
      INSTANCE_IPS: '127.0.1.7',
      WORKLOAD_NAME: 'reviews-v2',
      ENVOY_STATUS_PORT: 15021,
      ENVOY_PROMETHEUS_PORT: 15090,
    });
    // POD_PORTS is a JSON string, as istio-agent sends it.
    expect(typeof md.POD_PORTS).toBe('string');
    expect(JSON.parse(md.POD_PORTS as string)).toEqual([
      { name: 'http', containerPort: 9080, protocol: 'TCP' },
      { name: 'grpc-api', containerPort: 9090, protocol: 'TCP' },
    ]);
  });
});
