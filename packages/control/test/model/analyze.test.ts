import { describe, expect, it } from 'vitest';
import { analyzeObjects, dedupeObjects, hostCandidates, parseConfigText, type ConfigObject } from '@trellis/control';
import { destinationRule, gateway, routeTo, serviceEntry, virtualService } from './helpers.js';

/** Objects as if loaded from one file each (file = index), to see which one an issue lands on. */
function load(...raw: object[]): ConfigObject[] {
  return raw.flatMap((o, i) => {
    const { objects, issues } = parseConfigText(JSON.stringify(o), `f${i}.yaml`);
    if (issues.some((x) => x.severity === 'error')) throw new Error(JSON.stringify(issues));
    return objects;
  });
}

const svc = (name: string, namespace = 'ns') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80 }] } });
const pick = (o: ConfigObject[]) => analyzeObjects(o).map(({ severity, file, object, path, message }) => ({ severity, file, object, path, message }));

describe('duplicates', () => {
  it('are an error on the later object only', () => {
    const objects = load(svc('reviews'), svc('reviews', 'other'), svc('reviews'));
    expect(pick(objects)).toEqual([
      { severity: 'error', file: 'f2.yaml', object: 'Service/ns/reviews', path: 'metadata.name', message: 'duplicate Service/ns/reviews: already defined in f0.yaml#0' },
    ]);
    expect(dedupeObjects(objects).map((o) => o.origin.file)).toEqual(['f0.yaml', 'f1.yaml']);
  });

  it('count kinds separately', () => {
    expect(pick(load(svc('reviews'), destinationRule({ host: 'reviews' }, 'reviews')))).toEqual([]);
  });
});

describe('references (warnings, like istioctl analyze IST0101)', () => {
  const dr = destinationRule({ host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] });

  it('resolve service hosts written in any of the accepted forms', () => {
    for (const host of ['reviews', 'reviews.ns', 'reviews.ns.svc', 'reviews.ns.svc.cluster.local']) {
      expect(pick(load(svc('reviews'), dr, virtualService({ hosts: ['reviews'], http: [{ route: [{ destination: { host, subset: 'v1' } }] }] })))).toEqual([]);
    }
  });

  it('warn about a destination host that no Service or ServiceEntry provides', () => {
    expect(pick(load(svc('reviews'), virtualService({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'ratings' } }] }] })))).toEqual([
      { severity: 'warning', file: 'f1.yaml', object: 'VirtualService/ns/r', path: 'spec.http[0].route[0].destination.host', message: 'referenced host not found: "ratings"' },
    ]);
    // In another namespace the short name means another service.
    expect(pick(load(svc('reviews', 'other'), virtualService({ hosts: ['reviews'], http: [routeTo('reviews')] })))).toHaveLength(1);
  });

  it('accept ServiceEntry hosts, wildcards included', () => {
    const se = serviceEntry({ hosts: ['*.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }] });
    expect(pick(load(se, virtualService({ hosts: ['api.example.com'], tls: [{ match: [{ sniHosts: ['api.example.com'] }], route: [{ destination: { host: 'api.example.com' } }] }] })))).toEqual([]);
  });

  it('warn about a subset no DestinationRule of that host defines', () => {
    const vs = virtualService({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 50 }], mirror: { host: 'reviews', subset: 'v3' } }] });
    expect(pick(load(svc('reviews'), dr, vs)).map((i) => [i.path, i.message])).toEqual([
      ['spec.http[0].route[1].destination.subset', 'referenced host+subset in destinationrule not found: "reviews+v2"'],
      ['spec.http[0].mirror.subset', 'referenced host+subset in destinationrule not found: "reviews+v3"'],
    ]);
  });

  it('do not mind DestinationRule subsets nobody uses', () => {
    expect(pick(load(svc('reviews'), dr, virtualService({ hosts: ['reviews'], http: [routeTo('reviews')] })))).toEqual([]);
  });

  it('warn about missing gateways', () => {
    const vs = virtualService({ hosts: ['a.example.com'], gateways: ['gw', 'other/gw', 'mesh'], http: [routeTo('reviews')] });
    const gw = gateway({ servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] }, 'gw');
    expect(pick(load(svc('reviews'), gw, vs)).map((i) => [i.path, i.message])).toEqual([['spec.gateways[1]', 'referenced gateway not found: "other/gw"']]);
  });

  it('check delegates both ways', () => {
    const root = virtualService({ hosts: ['reviews'], http: [{ delegate: { name: 'child' } }, { delegate: { name: 'missing', namespace: 'x' } }] }, 'root');
    const child = virtualService({ http: [routeTo('reviews')] }, 'child');
    const orphan = virtualService({ http: [routeTo('reviews')] }, 'orphan');
    expect(pick(load(svc('reviews'), root, child, orphan)).map((i) => [i.object, i.path, i.message])).toEqual([
      ['VirtualService/ns/root', 'spec.http[1].delegate', 'referenced delegate VirtualService not found: "x/missing"; the route is dropped'],
      ['VirtualService/ns/orphan', 'spec.hosts', 'VirtualService has no hosts, so it only applies as a delegate, and no VirtualService delegates to it'],
    ]);
  });

  it('warn about delegates that are no delegates or are not exported to the root, and about unreachable delegate routes', () => {
    const root = virtualService({ hosts: ['reviews'], http: [
      { name: 'api', match: [{ uri: { prefix: '/api' } }], delegate: { name: 'api', namespace: 'team' } },
      { delegate: { name: 'other-root' } },
      { delegate: { name: 'private', namespace: 'team' } },
    ] }, 'root');
    const api = virtualService({ http: [
      { name: 'v1', match: [{ uri: { prefix: '/api/v1' } }], route: [{ destination: { host: 'reviews.ns' } }] },
      { name: 'static', match: [{ uri: { prefix: '/static' } }], route: [{ destination: { host: 'reviews.ns' } }] },
    ] }, 'api', 'team');
    const otherRoot = virtualService({ hosts: ['ratings'], http: [routeTo('reviews')] }, 'other-root');
    const hidden = virtualService({ exportTo: ['.'], http: [{ route: [{ destination: { host: 'reviews.ns' } }] }] }, 'private', 'team');
    expect(pick(load(svc('reviews'), svc('ratings'), root, api, otherRoot, hidden)).map((i) => [i.object, i.path, i.message])).toEqual([
      ['VirtualService/ns/root', 'spec.http[0].match', 'route "static" of delegate VirtualService "team/api" has matches that conflict with this route\'s, so it is never used'],
      ['VirtualService/ns/root', 'spec.http[1].delegate', 'VirtualService "ns/other-root" has hosts, so it is not a delegate; the route is dropped'],
      ['VirtualService/ns/root', 'spec.http[2].delegate', 'delegate VirtualService "team/private" is not exported to namespace "ns"; the route is dropped'],
    ]);
  });
});

describe('hostCandidates', () => {
  it('expands the short forms of Kubernetes service names', () => {
    expect(hostCandidates('reviews', 'ns')).toEqual(['reviews.ns.svc.cluster.local']);
    expect(hostCandidates('reviews.team', 'ns')).toEqual(['reviews.team', 'reviews.team.svc.cluster.local']);
    expect(hostCandidates('reviews.team.svc', 'ns')).toEqual(['reviews.team.svc', 'reviews.team.svc.cluster.local']);
    expect(hostCandidates('api.example.com', 'ns')).toEqual(['api.example.com']);
  });
});
