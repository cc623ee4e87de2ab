import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accessLogEntry, b3TraceId, traceId } from '../../src/access-log/access-log-format.js';
import { AccessLogWriter } from '../../src/access-log/access-log-writer.js';
import { ResponseFlag, StreamInfo } from '../../src/http/stream-info.js';

/** Fixed-width lines, so a byte bound is a line bound. */
const line = (i: number) => `${JSON.stringify({ i: String(i).padStart(3, '0'), pad: 'x'.repeat(40) })}\n`;
const LINE_BYTES = line(0).length;

describe('AccessLogWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-access-log-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes lines in order, asynchronously: nothing is on disk until the flush timer fires', async () => {
    const path = join(dir, 'a.log');
    const w = new AccessLogWriter(path, { flushIntervalMs: 30 });
    for (let i = 0; i < 100; i++) w.write(line(i));
    // Still buffered: write() never touches the disk itself.
    expect(await readFile(path, 'utf8').catch(() => '')).toBe('');
    const t0 = Date.now();
    while ((await readFile(path, 'utf8').catch(() => '')).split('\n').length < 101 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => Number(JSON.parse(l).i));
    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([w.written, w.dropped]).toEqual([100, 0]);
    await w.close();
  });

  it('a full buffer drops (and counts) lines instead of growing; what fit is written', async () => {
    const path = join(dir, 'b.log');
    const w = new AccessLogWriter(path, { flushIntervalMs: 10_000, maxPendingBytes: 10 * LINE_BYTES });
    for (let i = 0; i < 25; i++) w.write(line(i));
    expect(w.dropped).toBe(15);
    await w.flush();
    expect((await readFile(path, 'utf8')).trim().split('\n').map((l) => Number(JSON.parse(l).i))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Room again once written.
    w.write(line(99));
    await w.close();
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(11);
    expect([w.written, w.dropped]).toEqual([11, 15]);
    w.write(line(100));
    expect(w.dropped).toBe(16); // closed: dropped
  });

  it('a stalled file (a FIFO nobody reads yet) holds at most maxPendingBytes; later lines are dropped', async () => {
    const fifo = join(dir, 'slow.fifo');
    execFileSync('mkfifo', [fifo]);
    const w = new AccessLogWriter(fifo, { flushIntervalMs: 5, flushBytes: LINE_BYTES, maxPendingBytes: 20 * LINE_BYTES });
    // Opening a FIFO for writing waits for a reader: the writer can't make progress.
    for (let i = 0; i < 200; i++) {
      w.write(line(i));
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    expect(w.dropped).toBe(180);
    const got: string[] = [];
    const reader = createReadStream(fifo, 'utf8');
    reader.on('data', (c) => got.push(c as string));
    await w.close();
    await new Promise((r) => reader.on('close', r));
    expect(got.join('').trim().split('\n').map((l) => Number(JSON.parse(l).i))).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('a file that cannot be opened is reported once and its lines are counted as dropped', async () => {
    const errors: string[] = [];
    const w = new AccessLogWriter(join(dir, 'no', 'such', 'dir.log'), { flushIntervalMs: 5, onError: (m) => errors.push(m) });
    w.write(line(1));
    w.write(line(2));
    await w.flush();
    w.write(line(3));
    await w.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('ENOENT');
    expect([w.written, w.dropped]).toEqual([0, 3]);
  });
});

describe('access log entries', () => {
  it('trace_id comes from a valid W3C traceparent only', () => {
    expect(traceId('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceId('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeNull();
    expect(traceId('garbage')).toBeNull();
    expect(traceId(undefined)).toBeNull();
    expect(b3TraceId('463ac35c9f6413ad')).toBe('463ac35c9f6413ad');
    expect(b3TraceId('0000000000000000')).toBeNull();
    expect(b3TraceId('xyz')).toBeNull();
  });

  it('a request without a stream (codec error) has nulls where there is nothing to say', () => {
    const info = new StreamInfo();
    info.responseCode = 400;
    info.setFlag(ResponseFlag.DPE);
    info.durationMs = 0.4;
    const e = accessLogEntry(info, null);
    expect(e).toMatchObject({
      method: null,
      authority: null,
      path: null,
      response_code: 400,
      response_flags: 'DPE',
      bytes_received: 0,
      bytes_sent: 0,
      duration: 0,
      upstream_host: null,
      upstream_cluster: null,
      x_request_id: null,
      trace_id: null,
      route_name: null,
    });
    expect(new Date(e.start_time).getTime()).toBe(info.startTime);
  });
});
