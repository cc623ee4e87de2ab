import { describe, expect, test } from 'vitest';
import { config, obj, workload } from '../registry/config-helpers.js';
import { gen, input, must } from './helpers.js';

const FQDN = 'greeter.default.svc.cluster.local';
const svc = obj('Service', 'greeter', { selector: { app: 'greeter' }, ports: [{ name: 'grpc', port: 50051, targetPort: 6000 }, { name: 'http', port: 8080 }] });
const rule = obj('DestinationRule', 'greeter', { host: 'greeter', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] });
const vmA = obj('WorkloadEntry', 'vm-a', { address: '10.0.0.1', labels: { app: 'greeter', version: 'v1' }, locality: 'us-east/zone-a/rack-1', weight: 3, ports: { grpc: 7001 } });
const vmB = obj('WorkloadEntry', 'vm-b', { address: '10.0.0.2', labels: { app: 'greeter', version: 'v1' }, locality: 'us-east/zone-a/rack-1' });
const vmC = obj('WorkloadEntry', 'vm-c', { address: '10.0.0.3', labels: { app: 'greeter', version: 'v2' }, locality: 'eu-west' });
const pod = workload('greeter-v2-0', '127.0.1.5', { app: 'greeter', version: 'v2' }, { sidecar: { inboundPort: 15006 } });

const eds = gen(input(config(svc, rule, vmA, vmB, vmC), [pod]), 'endpoint');
const cla = (name: string): any => must(eds.get(name), name);
const flat = (c: any) => c.endpoints.flatMap((l: any) => l.lb_endpoints.map((e: any) => ({ locality: l.locality, ...e })));

describe('ClusterLoadAssignments', () => {
  test('one per EDS cluster, default and subsets', () => {
    expect([...eds.keys()]).toEqual([
      `outbound|50051||${FQDN}`, `outbound|50051|v1|${FQDN}`, `outbound|50051|v2|${FQDN}`,
      `outbound|8080||${FQDN}`, `outbound|8080|v1|${FQDN}`, `outbound|8080|v2|${FQDN}`,
    ]);
  });

  test('grouped by locality, each weighted by its endpoints; endpoints weighted and HEALTHY', () => {
    const c = cla(`outbound|50051|v1|${FQDN}`);
    expect(c.endpoints).toHaveLength(1);
    expect(c.endpoints[0].locality).toEqual({ region: 'us-east', zone: 'zone-a', sub_zone: 'rack-1' });
    expect(c.endpoints[0].load_balancing_weight).toEqual({ value: 4 });
    expect(flat(c).map((e: any) => [e.endpoint.address.socket_address, e.load_balancing_weight.value, e.health_status])).toEqual([
      [{ address: '10.0.0.1', port_value: 7001 }, 3, 'HEALTHY'],
      [{ address: '10.0.0.2', port_value: 6000 }, 1, 'HEALTHY'],
    ]);
  });

  test('subset labels filter; unknown locality parts are empty strings', () => {
    const c = cla(`outbound|50051|v2|${FQDN}`);
    expect(c.endpoints.map((l: any) => [l.locality, l.load_balancing_weight.value])).toEqual([
      [{ region: '', zone: '', sub_zone: '' }, 1],
      [{ region: 'eu-west', zone: '', sub_zone: '' }, 1],
    ]);
    expect(flat(c).map((e: any) => e.endpoint.address.socket_address.address)).toEqual(['127.0.1.5', '10.0.0.3']);
  });

  test('sidecar endpoints are the inbound port, with the app port in trellis metadata; plain ones have none', () => {
    const [viaSidecar] = flat(cla(`outbound|50051|v2|${FQDN}`)).filter((e: any) => e.endpoint.address.socket_address.address === '127.0.1.5');
    expect(viaSidecar.endpoint.address.socket_address.port_value).toBe(15006);
    expect(viaSidecar.metadata.filter_metadata.trellis).toEqual({ fields: { target_port: { numberValue: 6000 } } });
    const plain = flat(cla(`outbound|8080|v1|${FQDN}`));
    expect(plain.map((e: any) => e.endpoint.address.socket_address.port_value)).toEqual([8080, 8080]);
    expect(plain.every((e: any) => e.metadata.filter_metadata.trellis === undefined)).toBe(true);
  });

  test('a cluster nothing backs still gets an (empty) assignment; DNS clusters get none', () => {
    const se = obj('ServiceEntry', 'ext', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' });
    const out = gen(input(config(svc, se), []), 'endpoint');
    expect(out.get(`outbound|8080||${FQDN}`)).toEqual({ cluster_name: `outbound|8080||${FQDN}`, endpoints: [] });
    expect(out.has('outbound|443||api.example.com')).toBe(false);
  });

  test('named requests return just those', () => {
    const out = gen(input(config(svc, rule), [pod]), 'endpoint', [`outbound|50051|v2|${FQDN}`, 'outbound|1||nope']);
    expect([...out.keys()]).toEqual([`outbound|50051|v2|${FQDN}`]);
  });
});
