import { describe, expect, it } from 'vitest';
import { errorsOf, parseObjects, serviceEntry, warningsOf, workloadEntry } from './helpers.js';

const errors = (spec: object) => errorsOf(parseObjects(serviceEntry(spec)));
const http = { number: 80, name: 'http', protocol: 'HTTP' };

describe('ServiceEntry', () => {
  it('accepts external DNS and static internal entries', () => {
    expect(errors({ hosts: ['api.example.com'], ports: [http, { number: 443, name: 'https', protocol: 'HTTPS' }], location: 'MESH_EXTERNAL', resolution: 'DNS' })).toEqual([]);
    expect(errors({ hosts: ['db.internal'], addresses: ['10.1.0.0/16'], ports: [{ number: 5432, name: 'tcp-pg', protocol: 'TCP' }], location: 'MESH_INTERNAL', resolution: 'STATIC', endpoints: [{ address: '10.1.2.3', ports: { 'tcp-pg': 5433 } }] })).toEqual([]);
  });

  it('checks hosts', () => {
    expect(errors({ ports: [http] })).toEqual([{ path: 'spec.hosts', message: 'service entry must have at least one host' }]);
    expect(errors({ hosts: ['*', 'bad_host'], ports: [http] })).toEqual([
      { path: 'spec.hosts[0]', message: 'invalid host *' },
      { path: 'spec.hosts[1]', message: 'domain name "bad_host" invalid (label "bad_host" invalid)' },
    ]);
  });

  it('checks ports', () => {
    expect(errors({ hosts: ['a.com'], ports: [http, { ...http }, { number: 0, name: 'Bad Name', protocol: 'SMTP' }, { name: 'x', protocol: 'HTTP' }] })).toEqual([
      { path: 'spec.ports[1].name', message: 'service entry port name "http" already defined' },
      { path: 'spec.ports[1].number', message: 'service entry port 80 already defined' },
      { path: 'spec.ports[2].name', message: 'invalid port name: "Bad Name"' },
      { path: 'spec.ports[2].protocol', message: 'unsupported protocol: SMTP' },
      { path: 'spec.ports[2].number', message: 'port number 0 must be in the range 1..65535' },
      { path: 'spec.ports[3].number', message: 'port number is required' },
    ]);
  });

  it('checks resolution against endpoints and addresses', () => {
    expect(errors({ hosts: ['a.com'], ports: [http], resolution: 'NONE', endpoints: [{ address: '1.1.1.1' }] })).toEqual([
      { path: 'spec.endpoints', message: 'no endpoints should be provided for resolution type none' },
    ]);
    expect(errors({ hosts: ['a.com'], ports: [http], resolution: 'STATIC', endpoints: [{ address: 'a.example.com' }] })).toEqual([
      { path: 'spec.endpoints[0].address', message: 'endpoint address "a.example.com" is not a valid IP address' },
    ]);
    expect(errors({ hosts: ['*.example.com'], ports: [http], resolution: 'DNS' })).toEqual([
      { path: 'spec.hosts[0]', message: 'hosts must be FQDN if no endpoints are provided for resolution mode DNS' },
    ]);
    expect(errors({ hosts: ['a.com'], ports: [http], resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: 'x.com' }, { address: 'y.com' }] })).toEqual([
      { path: 'spec.endpoints', message: 'there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN' },
    ]);
    expect(errors({ hosts: ['a.com'], addresses: ['10.0.0.0/24', '300.1.1.1'], ports: [http], resolution: 'DNS' })).toEqual([
      { path: 'spec.addresses[1]', message: '300.1.1.1 is not a valid IP' },
      { path: 'spec.addresses', message: 'CIDR addresses are allowed only for NONE/STATIC resolution types' },
    ]);
    expect(errors({ hosts: ['a.com'], ports: [http], resolution: 'DNS', endpoints: [{ address: 'b.com', ports: { grpc: 9000 } }] })).toEqual([
      { path: 'spec.endpoints[0].ports.grpc', message: 'endpoint port 9000 is not defined by the service entry' },
    ]);
    expect(errors({ hosts: ['a.com'], ports: [http], resolution: 'LOOKUP' })).toEqual([
      { path: 'spec.resolution', message: 'must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN, got "LOOKUP"' },
    ]);
  });

  it('rejects several hosts on an opaque TCP port unless resolution is NONE', () => {
    expect(errors({ hosts: ['a.com', 'b.com'], ports: [{ number: 3306, name: 'mysql', protocol: 'TCP' }], addresses: ['10.0.0.1'], resolution: 'DNS' })).toEqual([
      { path: 'spec.ports[0]', message: 'multiple hosts provided with non-HTTP, non-TLS ports' },
    ]);
    expect(errors({ hosts: ['a.com', 'b.com'], ports: [{ number: 3306, name: 'mysql', protocol: 'TCP' }], addresses: ['10.0.0.1'] })).toEqual([]);
  });

  it('warns about TCP ports without addresses and keeps the object', () => {
    const res = parseObjects(serviceEntry({ hosts: ['a.com'], ports: [{ number: 9000, name: 'tcp' }], resolution: 'DNS' }));
    expect(res.objects).toHaveLength(1);
    expect(warningsOf(res)).toEqual([
      { path: 'spec.ports[0]', message: 'addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled' },
    ]);
  });

  it('keeps workloadSelector and endpoints exclusive', () => {
    expect(errors({ hosts: ['a.com'], ports: [http], resolution: 'STATIC', workloadSelector: { labels: { app: 'a' } }, endpoints: [] })).toEqual([
      { path: 'spec', message: 'only one of WorkloadSelector or Endpoints is allowed in Service Entry' },
    ]);
  });
});

describe('WorkloadEntry', () => {
  const errs = (spec: object) => errorsOf(parseObjects(workloadEntry(spec)));

  it('accepts an IP, a DNS name, or a unix socket', () => {
    expect(errs({ address: '1.2.3.4', ports: { http: 8080 }, labels: { app: 'vm' }, serviceAccount: 'sa', weight: 5 })).toEqual([]);
    expect(errs({ address: 'vm1.example.com' })).toEqual([]);
    expect(errs({ address: 'unix:///var/run/app.sock' })).toEqual([]);
  });

  it('requires an address unless a network is given', () => {
    expect(errs({ labels: { app: 'vm' } })).toEqual([{ path: 'spec.address', message: 'address is required' }]);
    const res = parseObjects(workloadEntry({ network: 'vpc-2' }));
    expect(errorsOf(res)).toEqual([]);
    expect(warningsOf(res)).toEqual([{ path: 'spec.address', message: 'address is unset with network "vpc-2"' }]);
  });

  it('checks addresses, ports and labels', () => {
    expect(errs({ address: 'not an address', ports: { 'Bad Name': 70000 }, labels: { app: 'a b' } })).toEqual([
      { path: 'spec.address', message: 'endpoint address "not an address" is not a valid FQDN or an IP address' },
      { path: 'spec.ports["Bad Name"]', message: 'invalid port name: "Bad Name"' },
      { path: 'spec.ports["Bad Name"]', message: 'port number 70000 must be in the range 1..65535' },
      { path: 'spec.labels.app', message: expect.stringMatching(/^invalid label value "a b"/) },
    ]);
    expect(errs({ address: 'unix://relative.sock', ports: { http: 80 } })).toEqual([
      { path: 'spec.address', message: 'relative.sock is not an absolute path to a file' },
      { path: 'spec.ports', message: 'unix endpoint unix://relative.sock must not include ports' },
    ]);
  });
});
