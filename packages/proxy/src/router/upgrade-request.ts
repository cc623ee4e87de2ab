import net from 'node:net';
import type { Host } from '../cluster/host.js';
import type { ActiveStream, StreamUpstream } from '../http/active-stream.js';
import { ResponseFlag } from '../http/stream-info.js';
import type { HeaderMap } from './header-mutations.js';

/**
 * An upgrade (e.g. WebSocket) to one endpoint: a dedicated TCP connection carries the request head, then
 * both sockets are spliced and bytes flow raw both ways until either side closes. The upstream's answer
 * (101, or a refusal) reaches the client verbatim; its status is recorded for the access log.
 */
export class UpgradeRequest implements StreamUpstream {
  private upstream: net.Socket | null = null;
  private connected = false;
  private done = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly stream: ActiveStream,
    private readonly host: Host,
  ) {}

  start(method: string, path: string, authority: string, headers: HeaderMap): void {
    const downstream = this.stream.upgradeSocket!;
    const stats = this.host.stats;
    stats.rqActive++;
    stats.rqTotal++;
    this.stream.attachUpstream(this);
    const up = net.connect({ host: this.host.ip, port: this.host.port, noDelay: true });
    this.upstream = up;
    this.timer = setTimeout(() => up.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), this.host.connectTimeoutMs);
    up.once('connect', () => {
      clearTimeout(this.timer!);
      this.connected = true;
      up.write(requestHead(method, path, authority, headers), 'latin1');
      const head = this.stream.upgradeHead;
      if (head && head.length > 0) up.write(head);
      up.once('data', (chunk: Buffer) => this.recordStatus(chunk));
      up.pipe(downstream);
      downstream.pipe(up);
    });
    up.on('error', () => {
      if (!this.connected) this.failConnect();
    });
    up.once('close', () => this.closed());
    downstream.once('close', () => this.closed());
  }

  private recordStatus(chunk: Buffer): void {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 16)));
    if (m) this.stream.info.responseCode = Number(m[1]);
  }

  private failConnect(): void {
    if (this.done) return;
    this.finish();
    this.stream.sendLocalReply(
      503,
      'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
      ResponseFlag.UF,
      'upstream_reset_before_response_started{connection_failure}',
    );
  }

  /** Either side closed: close the other and complete the stream. */
  private closed(): void {
    if (this.done) return;
    this.finish();
    this.upstream?.destroy();
    this.stream.upgradeSocket?.destroy();
    this.stream.finishUpgrade();
  }

  abort(): void {
    this.closed();
  }

  resume(): void {
    // pipe() does the flow control of a splice.
  }

  private finish(): void {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.host.stats.rqActive--;
    this.stream.attachUpstream(null);
  }
}

/** The HTTP/1.1 request head for the upstream, hop-by-hop upgrade headers restored. */
function requestHead(method: string, path: string, authority: string, headers: HeaderMap): string {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${authority}\r\n`;
  for (const name in headers) {
    const v = headers[name]!;
    if (typeof v === 'string') head += `${name}: ${v}\r\n`;
    else for (const item of v) head += `${name}: ${item}\r\n`;
  }
  return `${head}\r\n`;
}
