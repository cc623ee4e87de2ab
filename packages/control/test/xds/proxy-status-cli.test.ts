import { Writable } from 'node:stream';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proxyStatus } from '../../../cli/src/commands/proxy-status.js';
import { startDebugServer, type DebugServer } from '../../src/debug/server.js';
import { eventually, startHarness, type Harness } from './fixtures.js';

class Buffer_ extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** A port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe('trellis proxy-status', () => {
  let h: Harness;
  let debug: DebugServer;
  let control: string;

  beforeEach(async () => {
    h = await startHarness();
    debug = await startDebugServer({ host: '127.0.0.1', port: 0, xds: h.server, registry: h.registry, configStatus: () => ({}) });
    control = `http://127.0.0.1:${debug.port}`;
  });
  afterEach(async () => {
    delete process.env.TRELLIS_CONTROL_DEBUG;
    await debug.close();
    await h.close();
  });

  /** reviews: CDS+LDS ACKed. ratings (ns shop): CDS ACKed, LDS NACKed, EDS sent and unanswered. */
  async function twoProxies(): Promise<void> {
    const reviews = h.connect('reviews-v1-0');
    reviews.subscribe('cluster');
    reviews.ack(await reviews.next());
    reviews.subscribe('listener');
    reviews.ack(await reviews.next());

    const ratings = h.connect('ratings-v1-0', 'shop');
    ratings.subscribe('cluster');
    ratings.ack(await ratings.next());
    ratings.subscribe('listener');
    const lds = await ratings.next();
    ratings.nack(lds, '', 'Error adding/updating listener(s) 0.0.0.0_15001: duplicate listener');
    ratings.subscribe('endpoint', ['outbound|9080||reviews.default.svc.cluster.local']);
    await ratings.next();
    await eventually(() => {
      const s = h.server.status();
      return s.length === 2 && s.every((p) => p.types.cluster.state === 'SYNCED') && s.some((p) => p.types.listener.lastNack);
    });
    await eventually(() => h.server.status().find((p) => p.identity.podName === 'reviews-v1-0')!.types.listener.state === 'SYNCED');
  }

  it('prints istioctl-style columns with each type’s sync state and the NACK message', async () => {
    await twoProxies();
    const out = new Buffer_();
    const err = new Buffer_();
    expect(await proxyStatus(['--control', control], out, err)).toBe(0);
    expect(err.text).toBe('');

    const lines = out.text.trimEnd().split('\n');
    const cols = (line: string) => line.split(/\s{3,}/);
    expect(cols(lines[0]!)).toEqual(['NAME', 'TYPE', 'CDS', 'LDS', 'EDS', 'RDS', 'CONNECTED', 'LAST SENT']);
    expect(cols(lines[1]!).slice(0, 6)).toEqual(['ratings-v1-0.shop', 'sidecar', 'SYNCED', 'STALE (NACK)', 'STALE', 'NOT SENT']);
    expect(cols(lines[2]!).slice(0, 6)).toEqual(['reviews-v1-0.default', 'sidecar', 'SYNCED', 'SYNCED', 'NOT SENT', 'NOT SENT']);
    expect(cols(lines[1]!)[6]).toMatch(/^\d+s$/);
    expect(cols(lines[1]!)[7]).toMatch(/^\d+s ago$/);
    // Columns line up: every state column starts at the same offset on every row.
    const at = lines[0]!.indexOf('CDS');
    expect(lines[1]!.slice(at, at + 6)).toBe('SYNCED');
    expect(lines[2]!.slice(at, at + 6)).toBe('SYNCED');

    const ldsVersion = h.server.status().find((p) => p.identity.podName === 'ratings-v1-0')!.types.listener.sentVersion;
    expect(out.text).toContain('Rejected config:');
    expect(out.text).toContain(
      `ratings-v1-0.shop LDS (NACK: Error adding/updating listener(s) 0.0.0.0_15001: duplicate listener) [version ${ldsVersion}`,
    );
  });

  it('--json prints the raw /debug/syncz status', async () => {
    await twoProxies();
    const out = new Buffer_();
    expect(await proxyStatus([`--control=${control}/`, '--json'], out)).toBe(0);
    const parsed = JSON.parse(out.text);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(h.server.status())));
  });

  it('filters by name, and takes the address from TRELLIS_CONTROL_DEBUG', async () => {
    await twoProxies();
    process.env.TRELLIS_CONTROL_DEBUG = control;
    const out = new Buffer_();
    expect(await proxyStatus(['reviews'], out)).toBe(0);
    expect(out.text).toContain('reviews-v1-0.default');
    expect(out.text).not.toContain('ratings');

    const err = new Buffer_();
    expect(await proxyStatus(['productpage'], new Buffer_(), err)).toBe(1);
    expect(err.text).toContain('no connected proxy matches "productpage"');
  });

  it('says so when no proxy is connected', async () => {
    const out = new Buffer_();
    expect(await proxyStatus(['--control', control], out)).toBe(0);
    expect(out.text).toBe(`no proxies connected to ${control}\n`);
  });

  it('exits 1 with a clear message when the control plane is unreachable', async () => {
    const port = await closedPort();
    const out = new Buffer_();
    const err = new Buffer_();
    expect(await proxyStatus(['--control', `http://127.0.0.1:${port}`], out, err)).toBe(1);
    expect(out.text).toBe('');
    expect(err.text).toContain(`cannot reach the control plane at http://127.0.0.1:${port}`);
    expect(err.text).toContain('ECONNREFUSED');
  });

  it('exits 1 when the address is not a Trellis debug server', async () => {
    const err = new Buffer_();
    expect(await proxyStatus(['--control', `${control}/not-trellis`], new Buffer_(), err)).toBe(1);
    expect(err.text).toContain('/not-trellis/debug/syncz answered HTTP 404');
  });

  it('rejects unknown flags with usage (exit 2)', async () => {
    const err = new Buffer_();
    expect(await proxyStatus(['--bogus'], new Buffer_(), err)).toBe(2);
    expect(err.text).toContain('usage: trellis proxy-status');
  });
});
