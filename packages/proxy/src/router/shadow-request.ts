import type { IncomingHttpHeaders } from 'node:http';
import type { Host } from '../cluster/host.js';
import type { ConnectionPool, UpstreamCallbacks, UpstreamRequestSpec, UpstreamStream } from '../upstream/connection-pool.js';

/**
 * A mirrored copy of a request (Envoy's shadow): fire and forget. Its response is read and dropped, its
 * failure is only counted on the mirror host; nothing about it reaches the caller. It is bounded by the
 * route timeout, as Envoy bounds shadows (none when the route has none).
 */
export class ShadowRequest implements UpstreamCallbacks {
  private handle: UpstreamStream | null = null;
  private timer: NodeJS.Timeout | null = null;
  private done = false;
  private status = 0;

  constructor(
    private readonly host: Host,
    private readonly timeoutMs: number,
  ) {}

  start(pool: ConnectionPool, spec: UpstreamRequestSpec): void {
    const stats = this.host.stats;
    stats.rqActive++;
    stats.rqTotal++;
    if (this.timeoutMs > 0) this.timer = setTimeout(onShadowTimeout, this.timeoutMs, this);
    const handle = pool.newStream(spec, this);
    if (this.done) handle.abort();
    else this.handle = handle;
  }

  onUpstreamHeaders(status: number): void {
    this.status = status;
  }

  onUpstreamData(): boolean {
    return true;
  }

  onUpstreamEnd(_trailers: IncomingHttpHeaders | null): void {
    this.finish(this.status < 500);
  }

  onUpstreamError(): void {
    this.finish(false);
  }

  /** @internal */
  onTimeout(): void {
    this.timer = null;
    if (this.done) return;
    this.host.stats.rqTimeout++;
    this.finish(false);
    this.handle?.abort();
  }

  private finish(success: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const stats = this.host.stats;
    stats.rqActive--;
    if (success) stats.rqSuccess++;
    else stats.rqError++;
  }
}

function onShadowTimeout(s: ShadowRequest): void {
  s.onTimeout();
}

/** Envoy's shadow authority: `-shadow` after the host, before any port (`foo:8080` -> `foo-shadow:8080`). */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(':');
  const bracket = authority.lastIndexOf(']');
  if (colon < 0 || colon < bracket) return `${authority}-shadow`;
  return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}
