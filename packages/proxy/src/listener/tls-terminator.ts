import type net from 'node:net';
import tls from 'node:tls';
import type { DownstreamTlsConfig, ListenerTlsConfig, TlsFilterChain } from '../config/compile-downstream-tls.js';

/**
 * The filter chain for a server name, as Envoy matches `server_names`: the exact name, then wildcards from
 * the most specific (`*.b.example.com`, then `*.example.com`, ...), then the chain without names.
 */
export function chainForServerName(config: ListenerTlsConfig, serverName: string): TlsFilterChain | undefined {
  const chains = config.chains;
  const name = serverName.toLowerCase();
  if (name !== '') {
    const exact = chains.find((c) => c.serverNames.includes(name));
    if (exact) return exact;
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const wildcard = `*${name.slice(dot)}`;
      const match = chains.find((c) => c.serverNames.includes(wildcard));
      if (match) return match;
    }
  }
  return chains.find((c) => c.serverNames.length === 0);
}

/** Whether a client passes a chain's verification: a valid certificate when one is required or presented, with a wanted SAN. */
function clientAccepted(socket: tls.TLSSocket, t: DownstreamTlsConfig): boolean {
  if (!t.verifyClient) return true;
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  if (!presented) return !t.requireClientCertificate;
  if (!socket.authorized) return false;
  if (t.clientSans.length === 0) return true;
  const sans = (cert.subjectaltname ?? '').split(',').map((s) => s.trim());
  return t.clientSans.some((want) => sans.includes(want));
}

/**
 * Terminates TLS for a listener whose filter chains carry a DownstreamTlsContext: a tls.Server that never
 * listens is handed each accepted socket; SNI picks the chain (and its certificate) during the handshake,
 * and the decrypted socket goes on with the chain and the ALPN result. Rebuilt when the config changes;
 * handshakes under way finish with the settings they started with.
 */
export class TlsTerminator {
  private server: tls.Server | null = null;
  private config: ListenerTlsConfig | null = null;

  constructor(
    private readonly onSecure: (socket: tls.TLSSocket, chain: TlsFilterChain) => void,
    private readonly handshakeTimeoutMs: number,
  ) {}

  accept(socket: net.Socket, config: ListenerTlsConfig): void {
    if (config !== this.config || this.server === null) this.server = this.build(config);
    this.server.emit('connection', socket);
  }

  private build(config: ListenerTlsConfig): tls.Server {
    this.config = config;
    const fallback = chainForServerName(config, '') ?? config.chains[0]!;
    const alpn = [...new Set(config.chains.flatMap((c) => c.tls.alpn))];
    const server = tls.createServer({
      ...fallback.tls.serverOptions,
      ...(alpn.length > 0 ? { ALPNProtocols: alpn } : {}),
      SNICallback: (name, cb) => {
        const chain = chainForServerName(config, name);
        if (chain) cb(null, chain.tls.secureContext);
        else cb(new Error(`no filter chain matches server name ${name}`), undefined);
      },
      // Verification is decided per chain after the handshake (chains may differ in it).
      requestCert: config.chains.some((c) => c.tls.verifyClient),
      rejectUnauthorized: false,
      handshakeTimeout: this.handshakeTimeoutMs,
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const chain = chainForServerName(config, typeof socket.servername === 'string' ? socket.servername : '');
      if (!chain || !clientAccepted(socket, chain.tls)) {
        socket.destroy();
        return;
      }
      this.onSecure(socket, chain);
    });
    // A failed handshake (bad client, unknown SNI, timeout) just closes that connection.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    return server;
  }
}
