import fs from 'node:fs';
import type { ActiveStream } from '../http/active-stream.js';
import type { StreamInfo } from '../http/stream-info.js';
import { formatAccessLogLine } from './access-log-format.js';

export interface AccessLogWriterOptions {
  /** Buffered lines go out at least this often (Envoy's file flush interval is 1 s). */
  readonly flushIntervalMs?: number;
  /** A buffer this large is written at once (on the next turn of the event loop, never in the request). */
  readonly flushBytes?: number;
  /** Buffered plus being-written bytes past which new lines are dropped (and counted) instead of queued. */
  readonly maxPendingBytes?: number;
  /** Told once about a file that can't be opened or written. */
  readonly onError?: (msg: string) => void;
}

const DEFAULT_FLUSH_MS = 1_000;
const DEFAULT_FLUSH_BYTES = 64 * 1024;
const DEFAULT_MAX_PENDING = 4 * 1024 * 1024;

/** `-` writes to standard output, as with Envoy's `/dev/stdout`. */
export const STDOUT = '-';

/**
 * An access log file (or stdout) written asynchronously: requests append a line to an in-memory buffer, a
 * timer (or a full buffer, on the next tick) writes it with one asynchronous write, one at a time. A disk
 * slower than the traffic fills the buffer to `maxPendingBytes`; lines past that are dropped and counted in
 * `dropped` rather than held in memory.
 */
export class AccessLogWriter {
  /** Lines dropped because the buffer was full (or the file unusable). */
  dropped = 0;
  /** Lines written. */
  written = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private inFlightBytes = 0;
  private inFlightLines = 0;
  private fd: number | null = null;
  private opening = false;
  /** A flush came due before the file was open: the open callback writes. */
  private flushDue = false;
  private failed = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly flushMs: number;
  private readonly flushBytes: number;
  private readonly maxPending: number;
  /** The completion sink to hand listeners. */
  readonly sink: (info: StreamInfo, stream: ActiveStream | null) => void;

  constructor(
    readonly path: string,
    private readonly options: AccessLogWriterOptions = {},
  ) {
    this.flushMs = options.flushIntervalMs ?? DEFAULT_FLUSH_MS;
    this.flushBytes = options.flushBytes ?? DEFAULT_FLUSH_BYTES;
    this.maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    this.sink = (info, stream) => this.write(formatAccessLogLine(info, stream));
    if (path !== STDOUT) this.open();
  }

  /** Queues one line (newline included). Never blocks, never throws. */
  write(line: string): void {
    if (this.closed || this.failed || this.pendingBytes + this.inFlightBytes + line.length > this.maxPending) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= this.flushBytes) {
      this.immediate ??= setImmediate(onFlushDue, this);
    } else if (this.timer === null) {
      this.timer = setTimeout(onFlushDue, this.flushMs, this);
      this.timer.unref();
    }
  }

  /** Resolves once everything queued so far has been written (or dropped). */
  flush(): Promise<void> {
    this.drain();
    if (this.pending.length === 0 && this.inFlightLines === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is queued, then closes the file; later lines are dropped. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.clearTimers();
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }

  /** @internal Timer or immediate: write the buffer if no write is under way. */
  drain(): void {
    this.clearTimers();
    if (this.inFlightLines > 0 || this.pending.length === 0) return this.notifyIfIdle();
    if (this.path !== STDOUT && this.fd === null) {
      this.flushDue = true; // the open callback writes
      return;
    }
    const lines = this.pending.length;
    const data = this.pending.join('');
    this.pending = [];
    this.inFlightBytes = this.pendingBytes;
    this.inFlightLines = lines;
    this.pendingBytes = 0;
    if (this.path === STDOUT) process.stdout.write(data, (err) => this.onWritten(err ?? null));
    else fs.write(this.fd!, data, null, 'utf8', (err) => this.onWritten(err));
  }

  private onWritten(err: Error | null): void {
    if (err) {
      this.dropped += this.inFlightLines;
      this.fail(`access log ${this.path}: ${err.message}`);
    } else {
      this.written += this.inFlightLines;
    }
    this.inFlightLines = 0;
    this.inFlightBytes = 0;
    if (this.pending.length > 0) this.drain();
    else this.notifyIfIdle();
  }

  private open(): void {
    this.opening = true;
    fs.open(this.path, 'a', (err, fd) => {
      this.opening = false;
      if (err) return this.fail(`access log ${this.path}: ${err.message}`);
      if (this.closed) return fs.close(fd, () => undefined);
      this.fd = fd;
      if (this.flushDue || this.idleWaiters.length > 0) this.drain();
      else this.notifyIfIdle();
    });
  }

  private fail(msg: string): void {
    if (!this.failed) this.options.onError?.(msg);
    this.failed = true;
    this.dropped += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.inFlightLines > 0 || (this.pending.length > 0 && !this.failed) || this.opening) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}

function onFlushDue(w: AccessLogWriter): void {
  w.drain();
}
