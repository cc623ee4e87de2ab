import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDebugServer, type DebugServer } from '../../src/debug/server.js';
import { startHarness, type Harness } from './fixtures.js';

/** Parses Prometheus text exposition into name{labels} -> value, checking every line's shape. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    expect(m, `bad sample line: ${line}`).not.toBeNull();
    samples.set(m![1]!, Number(m![2]));
  }
  return samples;
}

describe('debug server (15014)', () => {
  let h: Harness;
  let debug: DebugServer;
  const base = () => `http://127.0.0.1:${debug.port}`;

  beforeEach(async () => {
    h = await startHarness();
    debug = await startDebugServer({
      host: '127.0.0.1',
      port: 0,
      xds: h.server,
      registry: h.registry,
      configStatus: () => ({ errors: 1, warnings: 0, files: [{ file: 'bookinfo.yaml', objects: 3 }] }),
    });
  });
  afterEach(async () => {
    await debug.close();
    await h.close();
  });

  it('serves Prometheus text with pilot_xds counting connected proxies', async () => {
    const c = h.connect('reviews-v1-0');
    c.subscribe('listener');
    await c.next();
    h.metrics.setConfigIssues([{ severity: 'error' }, { severity: 'warning' }, { severity: 'error' }]);

    const res = await fetch(`${base()}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const samples = parsePrometheus(await res.text());
    expect(samples.get('pilot_xds')).toBe(1);
    expect(samples.get('pilot_xds_pushes{type="lds"}')).toBe(1);
    expect(samples.get('pilot_xds_push_time_count{type="lds"}')).toBe(1);
    expect(samples.get('trellis_config_errors')).toBe(2);
    expect(samples.get('trellis_config_warnings')).toBe(1);
  });

  it('serves /debug/syncz as the xDS status JSON', async () => {
    const c = h.connect('reviews-v1-0');
    c.subscribe('cluster');
    const cds = await c.next();
    c.ack(cds);
    c.subscribe('listener');
    await c.next();

    const res = await fetch(`${base()}/debug/syncz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Array<Record<string, any>>;
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({
      id: 'sidecar~127.0.1.2~reviews-v1-0.default~default.svc.cluster.local',
      identity: { podName: 'reviews-v1-0', namespace: 'default', type: 'sidecar' },
      types: {
        cluster: { state: 'SYNCED', ackedVersion: cds.version_info, subscribed: '*' },
        listener: { state: 'STALE' },
        endpoint: { state: 'NOT SENT' },
        route: { state: 'NOT SENT' },
      },
    });
  });

  it('serves /debug/config_status from the callback, /ready, and 404/405 as JSON', async () => {
    const cfg = await fetch(`${base()}/debug/config_status`);
    expect(await cfg.json()).toEqual({ errors: 1, warnings: 0, files: [{ file: 'bookinfo.yaml', objects: 3 }] });
    expect((await fetch(`${base()}/ready`)).status).toBe(200);

    const missing = await fetch(`${base()}/debug/nope?x=1`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain('/debug/nope');

    const post = await fetch(`${base()}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    // Query strings don't change the route.
    expect((await fetch(`${base()}/ready?verbose=1`)).status).toBe(200);
  });

  it('answers 500 when config status cannot be serialised, and keeps serving', async () => {
    await debug.close();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    debug = await startDebugServer({ host: '127.0.0.1', port: 0, xds: h.server, registry: h.registry, configStatus: () => circular });
    const res = await fetch(`${base()}/debug/config_status`);
    expect(res.status).toBe(500);
    expect((await fetch(`${base()}/ready`)).status).toBe(200);
  });

  it('survives a malformed request line', async () => {
    const { connect } = await import('node:net');
    const reply = await new Promise<string>((resolve) => {
      const s = connect(debug.port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('close', () => resolve(data));
      s.on('error', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${base()}/ready`)).status).toBe(200);
  });
});
