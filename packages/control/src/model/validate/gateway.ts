/** Gateway (Istio's ValidateGateway, validateServer, validateTLSOptions). */
import type { GatewaySpec, Server, ServerTLSSettings } from '../istio-types.js';
import { each, type ValidationContext } from './context.js';
import { isDNS1123Label, isIPAddress, validateGatewayServerHost } from './hosts.js';
import type { FieldPath } from './path.js';
import { isHTTPProtocol, isTLSProtocol, parseProtocol, validatePort } from './ports.js';
import type { Reporter } from './reporter.js';

const UNIX_PREFIX = 'unix://';

export function validateGateway(spec: GatewaySpec, ctx: ValidationContext, path: FieldPath): void {
  const { r } = ctx;
  // The name goes into `namespace/name` references, so it must be a DNS label (no dots).
  if (!isDNS1123Label(ctx.name)) r.error([...ctx.root, 'metadata', 'name'], `invalid gateway name: "${ctx.name}"`);
  if (!spec.servers?.length) r.error([...path, 'servers'], 'gateway must have at least one server');
  const portNames = new Set<string>();
  each(spec.servers, [...path, 'servers'], (server, at) => {
    validateServer(server, at, r);
    if (!server.port) return;
    const name = server.port.name ?? '';
    if (portNames.has(name)) r.error([...at, 'port', 'name'], `port names in servers must be unique: duplicate name ${name}`);
    portNames.add(name);
    if (!isHTTPProtocol(parseProtocol(server.port.protocol)) && server.tls?.httpsRedirect) {
      r.warn([...at, 'tls', 'httpsRedirect'], 'tls.httpsRedirect should only be used with http servers');
    }
  });
}

function validateServer(server: Server, path: FieldPath, r: Reporter): void {
  if (!server.hosts?.length) r.error([...path, 'hosts'], 'server config must contain at least one host');
  each(server.hosts, [...path, 'hosts'], (host, at) => {
    for (const err of validateGatewayServerHost(host)) r.error(at, err);
  });
  const portOk = validateServerPort(server, [...path, 'port'], r);
  validateBind(server, path, r);
  validateServerTLS(server.tls, [...path, 'tls'], r);
  if (!portOk || !server.port) return;
  const protocol = parseProtocol(server.port.protocol);
  if (isTLSProtocol(protocol) && !server.tls) r.error([...path, 'tls'], 'server must have TLS settings for HTTPS/TLS protocols');
  else if (!isTLSProtocol(protocol) && server.tls) {
    const tls = server.tls;
    if (!isHTTPProtocol(protocol)) r.error([...path, 'tls'], 'server cannot have TLS settings for non HTTPS/TLS ports');
    // On plain HTTP only the redirect to HTTPS makes sense.
    else if (!isPassthrough(tls) || tls.caCertificates || tls.privateKey || tls.serverCertificate) {
      r.error([...path, 'tls'], 'server cannot have TLS settings for plain text HTTP ports');
    }
  }
}

/** Istio's gateway.IsPassThroughServer; an unset mode is PASSTHROUGH (the proto's zero value). */
export function isPassthrough(tls: ServerTLSSettings): boolean {
  const mode = tls.mode ?? 'PASSTHROUGH';
  return mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
}

function validateServerPort(server: Server, path: FieldPath, r: Reporter): boolean {
  const port = server.port;
  if (!port) {
    r.error(path, 'port is required');
    return false;
  }
  const before = r.findings.length;
  if (parseProtocol(port.protocol) === undefined) {
    r.error([...path, 'protocol'], `invalid protocol "${port.protocol ?? ''}", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`);
  }
  if ((port.number ?? 0) > 0 || !(server.bind ?? '').startsWith(UNIX_PREFIX)) validatePort(port.number ?? 0, [...path, 'number'], r);
  if ((port.targetPort ?? 0) > 0) r.error([...path, 'targetPort'], 'targetPort has no impact on Gateways');
  if (!port.name) r.error([...path, 'name'], 'port name must be set');
  return !r.findings.slice(before).some((f) => f.severity === 'error');
}

function validateBind(server: Server, path: FieldPath, r: Reporter): void {
  const bind = server.bind ?? '';
  if (bind.startsWith(UNIX_PREFIX)) {
    const socket = bind.slice(UNIX_PREFIX.length);
    if (!socket.startsWith('@') && (!socket.startsWith('/') || socket.endsWith('/'))) r.error([...path, 'bind'], `${socket} is not an absolute path to a file`);
    if (server.port?.number) r.error([...path, 'port', 'number'], 'port number must be 0 for unix domain socket');
  } else if (bind !== '' && !isIPAddress(bind)) {
    r.error([...path, 'bind'], `${bind} is not a valid IP`);
  }
}

function validateServerTLS(tls: ServerTLSSettings | undefined, path: FieldPath, r: Reporter): void {
  if (!tls) return;
  if ((tls.minProtocolVersion === 'TLSV1_0' || tls.minProtocolVersion === 'TLSV1_1') && !tls.cipherSuites?.length) {
    r.warn([...path, 'minProtocolVersion'], 'TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.');
  }
  if (tls.mode === 'ISTIO_MUTUAL') {
    // Istio's own certificates are used; user-provided ones would be ignored.
    for (const [field, what] of [
      ['serverCertificate', 'server certificate'],
      ['privateKey', 'private key'],
      ['caCertificates', 'CA bundle'],
      ['credentialName', 'credentialName'],
    ] as const) {
      if (tls[field]) r.error([...path, field], `ISTIO_MUTUAL TLS cannot have associated ${what}`);
    }
    if (tls.tlsCertificates?.length) r.error([...path, 'tlsCertificates'], 'ISTIO_MUTUAL TLS cannot have associated tlsCertificates');
    if (tls.credentialNames?.length) r.error([...path, 'credentialNames'], 'ISTIO_MUTUAL TLS cannot have associated credentialNames');
    return;
  }
  const hasCredentials = !!tls.credentialName || !!tls.credentialNames?.length;
  if (isPassthrough(tls) &&
    (tls.caCrl || tls.serverCertificate || tls.privateKey || tls.caCertificates || tls.tlsCertificates?.length || hasCredentials)) {
    r.warn(path, `${tls.mode ?? 'PASSTHROUGH'} mode does not use certificates, they will be ignored`);
  }
  const sources = [tls.serverCertificate && tls.privateKey, tls.credentialName, tls.credentialNames?.length, tls.tlsCertificates?.length].filter(Boolean).length;
  if (sources > 1) r.error(path, 'only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified');
  const terminates = tls.mode === 'SIMPLE' || tls.mode === 'MUTUAL' || tls.mode === 'OPTIONAL_MUTUAL';
  if (terminates && hasCredentials) return; // certificates come from the named secret
  if (terminates) {
    const prefix = tls.mode === 'SIMPLE' ? 'SIMPLE TLS' : 'MUTUAL TLS';
    if (tls.mode !== 'SIMPLE' && !tls.caCertificates) r.error([...path, 'caCertificates'], `${prefix} requires a client CA bundle`);
    if ((tls.tlsCertificates?.length ?? 0) > 2) r.warn([...path, 'tlsCertificates'], `${prefix} can support up to 2 server certificates`);
    const certs = tls.tlsCertificates?.length ? tls.tlsCertificates : [{ serverCertificate: tls.serverCertificate, privateKey: tls.privateKey }];
    for (const cert of certs) {
      if (!cert?.serverCertificate) r.error(path, `${prefix} requires a server certificate`);
      if (!cert?.privateKey) r.error(path, `${prefix} requires a private key`);
    }
  }
  if (tls.caCrl) {
    if (tls.credentialName) r.error([...path, 'caCrl'], 'CRL is not supported with credentialName. CRL has to be specified in the credential');
    if (tls.mode === 'SIMPLE') r.error([...path, 'caCrl'], 'CRL is not supported with SIMPLE TLS');
  }
}
