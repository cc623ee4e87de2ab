import { describe, expect, test } from 'vitest';
import { kubePortProtocol, serviceEntryPortProtocol, protocolFromPortName } from '../../src/registry/protocol.js';

describe('port protocol (Istio rules)', () => {
  test.each([
    ['http', 'HTTP'],
    ['http-web', 'HTTP'],
    ['HTTP', 'HTTP'],
    ['http2', 'HTTP2'],
    ['http2-api', 'HTTP2'],
    ['grpc', 'GRPC'],
    ['grpc-greeter', 'GRPC'],
    ['grpc-web', 'GRPC-WEB'],
    ['grpc-web-ui', 'GRPC-WEB'],
    ['https', 'HTTPS'],
    ['tls-passthrough', 'TLS'],
    ['tcp', 'TCP'],
    ['mongo', 'MONGO'],
    ['redis-cache', 'REDIS'],
    ['mysql', 'MYSQL'],
    ['web', 'UNKNOWN'],
    ['httpx', 'UNKNOWN'],
    ['', 'UNKNOWN'],
  ])('port name %j -> %s', (name, protocol) => {
    expect(protocolFromPortName(name)).toBe(protocol);
    expect(kubePortProtocol({ name, port: 80 })).toBe(protocol);
  });

  test('appProtocol wins over the port name, including Kubernetes standard names', () => {
    expect(kubePortProtocol({ name: 'http', port: 80, appProtocol: 'grpc' })).toBe('GRPC');
    expect(kubePortProtocol({ name: 'tcp', port: 80, appProtocol: 'http2' })).toBe('HTTP2');
    expect(kubePortProtocol({ name: 'web', port: 80, appProtocol: 'kubernetes.io/h2c' })).toBe('HTTP2');
    expect(kubePortProtocol({ name: 'web', port: 80, appProtocol: 'kubernetes.io/ws' })).toBe('HTTP');
  });

  test('ServiceEntry ports take their protocol field', () => {
    expect(serviceEntryPortProtocol({ number: 443, name: 'http', protocol: 'HTTPS' })).toBe('HTTPS');
    expect(serviceEntryPortProtocol({ number: 80, name: 'x', protocol: 'http' })).toBe('HTTP');
    expect(serviceEntryPortProtocol({ number: 80, name: 'http' })).toBe('UNKNOWN');
  });
});
