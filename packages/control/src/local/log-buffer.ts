/** One line of a container's output. */
export interface LogEntry {
  time: Date;
  stream: 'stdout' | 'stderr';
  line: string;
}

/**
 * The last `capacity` lines a container wrote (what `trellis logs` shows), across its restarts. Chunks are split
 * into lines per stream; an over-long line is cut so one runaway write can't hold unbounded memory.
 */
export class LogBuffer {
  private readonly entries: LogEntry[] = [];
  private start = 0;
  private readonly partial = { stdout: '', stderr: '' };

  constructor(
    readonly capacity = 1000,
    private readonly maxLineLength = 16 * 1024,
  ) {}

  /** Appends a chunk; returns the complete lines it finished. */
  write(stream: 'stdout' | 'stderr', chunk: string): LogEntry[] {
    const text = this.partial[stream] + chunk;
    const parts = text.split('\n');
    let rest = parts.pop()!;
    if (rest.length > this.maxLineLength) {
      parts.push(rest);
      rest = '';
    }
    this.partial[stream] = rest;
    return parts.map((line) => this.push(stream, line));
  }

  /** Ends both streams (the process exited): a last line without a newline still counts. */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) out.push(this.push(stream, this.partial[stream]));
      this.partial[stream] = '';
    }
    return out;
  }

  /** The buffered lines, oldest first; `tail` keeps only the last n. */
  lines(tail?: number): LogEntry[] {
    const all = [...this.entries.slice(this.start), ...this.entries.slice(0, this.start)];
    return tail === undefined ? all : all.slice(Math.max(0, all.length - tail));
  }

  private push(stream: 'stdout' | 'stderr', raw: string): LogEntry {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const entry = { time: new Date(), stream, line: line.length > this.maxLineLength ? line.slice(0, this.maxLineLength) : line };
    if (this.entries.length < this.capacity) this.entries.push(entry);
    else {
      this.entries[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    }
    return entry;
  }
}
