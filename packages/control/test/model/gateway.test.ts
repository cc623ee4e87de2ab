import { describe, expect, it } from 'vitest';
import { errorsOf, gateway, parseObjects, warningsOf } from './helpers.js';

const server = (extra: object = {}) => ({ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'], ...extra });
const errors = (spec: object, name = 'gw') => errorsOf(parseObjects(gateway(spec, name)));

describe('Gateway', () => {
  it('accepts typical servers', () => {
    expect(errors({ selector: { istio: 'ingressgateway' }, servers: [server(), server({ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['ns/*.example.com', './a.example.com'], tls: { mode: 'SIMPLE', credentialName: 'cert' } })] })).toEqual([]);
  });

  it('requires a DNS-label name and at least one server', () => {
    expect(errors({ servers: [] }, 'my.gw')).toEqual([
      { path: 'metadata.name', message: 'invalid gateway name: "my.gw"' },
      { path: 'spec.servers', message: 'gateway must have at least one server' },
    ]);
  });

  it('checks ports', () => {
    expect(errors({ servers: [{ hosts: ['*'] }, server({ port: { number: 0, protocol: 'FTP', targetPort: 8080 } })] })).toEqual([
      { path: 'spec.servers[0].port', message: 'port is required' },
      { path: 'spec.servers[1].port.protocol', message: 'invalid protocol "FTP", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP' },
      { path: 'spec.servers[1].port.number', message: 'port number 0 must be in the range 1..65535' },
      { path: 'spec.servers[1].port.targetPort', message: 'targetPort has no impact on Gateways' },
      { path: 'spec.servers[1].port.name', message: 'port name must be set' },
    ]);
    expect(errors({ servers: [server(), server()] })).toEqual([
      { path: 'spec.servers[1].port.name', message: 'port names in servers must be unique: duplicate name http' },
    ]);
  });

  it('checks hosts, with an optional namespace/ prefix', () => {
    expect(errors({ servers: [server({ hosts: [] }), server({ port: { number: 81, name: 'h2', protocol: 'HTTP' }, hosts: ['reviews', 'Bad_NS/a.com', 'ns/', '*foo.com', '10.0.0.1'] })] })).toEqual([
      { path: 'spec.servers[0].hosts', message: 'server config must contain at least one host' },
      { path: 'spec.servers[1].hosts[0]', message: 'short names (non FQDN) are not allowed' },
      { path: 'spec.servers[1].hosts[1]', message: 'invalid namespace value "Bad_NS" in gateway' },
      { path: 'spec.servers[1].hosts[2]', message: 'config namespace and dnsName in host entry cannot be empty' },
      { path: 'spec.servers[1].hosts[2]', message: 'short names (non FQDN) are not allowed' },
      { path: 'spec.servers[1].hosts[2]', message: 'empty domain name not allowed' },
      { path: 'spec.servers[1].hosts[3]', message: 'partial wildcard "*foo.com" not allowed' },
    ]);
  });

  it('requires TLS settings exactly where TLS is terminated', () => {
    expect(errors({ servers: [server({ port: { number: 443, name: 'https', protocol: 'HTTPS' } })] })).toEqual([
      { path: 'spec.servers[0].tls', message: 'server must have TLS settings for HTTPS/TLS protocols' },
    ]);
    expect(errors({ servers: [server({ tls: { httpsRedirect: true } })] })).toEqual([]);
    expect(errors({ servers: [server({ tls: { mode: 'SIMPLE', credentialName: 'c' } })] })).toEqual([
      { path: 'spec.servers[0].tls', message: 'server cannot have TLS settings for plain text HTTP ports' },
    ]);
    expect(errors({ servers: [server({ port: { number: 31400, name: 'tcp', protocol: 'TCP' }, tls: { httpsRedirect: true } })] })).toEqual([
      { path: 'spec.servers[0].tls', message: 'server cannot have TLS settings for non HTTPS/TLS ports' },
    ]);
  });

  it('checks server TLS modes and certificates', () => {
    const tls = (t: object) => errors({ servers: [server({ port: { number: 443, name: 'https', protocol: 'HTTPS' }, tls: t })] });
    expect(tls({ mode: 'MUTUAL', serverCertificate: '/c.pem', privateKey: '/k.pem', caCertificates: '/ca.pem' })).toEqual([]);
    expect(tls({ mode: 'SIMPLE' })).toEqual([
      { path: 'spec.servers[0].tls', message: 'SIMPLE TLS requires a server certificate' },
      { path: 'spec.servers[0].tls', message: 'SIMPLE TLS requires a private key' },
    ]);
    expect(tls({ mode: 'MUTUAL', serverCertificate: '/c.pem', privateKey: '/k.pem' })).toEqual([
      { path: 'spec.servers[0].tls.caCertificates', message: 'MUTUAL TLS requires a client CA bundle' },
    ]);
    expect(tls({ mode: 'ISTIO_MUTUAL', credentialName: 'c' })).toEqual([
      { path: 'spec.servers[0].tls.credentialName', message: 'ISTIO_MUTUAL TLS cannot have associated credentialName' },
    ]);
    expect(tls({ mode: 'TERMINATE' })).toEqual([
      { path: 'spec.servers[0].tls.mode', message: 'must be one of PASSTHROUGH, SIMPLE, MUTUAL, AUTO_PASSTHROUGH, ISTIO_MUTUAL, OPTIONAL_MUTUAL, got "TERMINATE"' },
    ]);
    expect(warningsOf(parseObjects(gateway({ servers: [server({ port: { number: 443, name: 'tls', protocol: 'TLS' }, hosts: ['a.com'], tls: { mode: 'PASSTHROUGH', credentialName: 'c' } })] })))).toEqual([
      { path: 'spec.servers[0].tls', message: 'PASSTHROUGH mode does not use certificates, they will be ignored' },
    ]);
  });
});
