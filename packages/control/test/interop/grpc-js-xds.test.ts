import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane } from '@trellis/control';
import { startEchoServer } from '../helpers/grpc-echo.js';
import { JsonLineChild } from '../helpers/child.js';

// A real third-party xDS client (@grpc/grpc-js-xds, proxyless gRPC) steered by Trellis over ADS.

const CLIENT = fileURLToPath(new URL('../fixtures/xds-grpc-client.mjs', import.meta.url));

const service = (v1Port: number, v2Port: number) => `
apiVersion: v1
kind: Service
metadata: { name: greeter, namespace: default }
spec:
  selector: { app: greeter }
  ports: [{ name: grpc, port: 50051 }]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: greeter-v1, namespace: default }
spec: { address: 127.0.0.1, labels: { app: greeter, version: v1 }, ports: { grpc: ${v1Port} } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: greeter-v2, namespace: default }
spec: { address: 127.0.0.1, labels: { app: greeter, version: v2 }, ports: { grpc: ${v2Port} } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: greeter, namespace: default }
spec:
  host: greeter
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`;

const virtualService = (w1: number, w2: number) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: greeter, namespace: default }
spec:
  hosts: [greeter]
  http:
  - match: [{ headers: { x-canary: { exact: "yes" } } }]
    route: [{ destination: { host: greeter, subset: v2 } }]
  - route:
    - { destination: { host: greeter, subset: v1 }, weight: ${w1} }
    - { destination: { host: greeter, subset: v2 }, weight: ${w2} }
`;

describe('proxyless gRPC (@grpc/grpc-js-xds) through the Trellis control plane', () => {
  let dir: string;
  let bootDir: string;
  let plane: ControlPlane;
  let client: JsonLineChild;
  const servers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    const [v1, v2] = await Promise.all([startEchoServer('v1'), startEchoServer('v2')]);
    servers.push(v1, v2);
    dir = await mkdtemp(join(tmpdir(), 'trellis-interop-'));
    await writeFile(join(dir, 'greeter.yaml'), service(v1.port, v2.port));
    await writeFile(join(dir, 'greeter-vs.yaml'), virtualService(80, 20));
    plane = await ControlPlane.start({
      configDir: dir, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiHost: '127.0.0.1', apiPort: 0, debounceMs: 50,
    });
    const bootstrap = {
      xds_servers: [{ server_uri: `127.0.0.1:${plane.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'grpc~127.0.0.1~interop-client.default~default.svc.cluster.local', locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
    };
    bootDir = await mkdtemp(join(tmpdir(), 'trellis-bootstrap-'));
    await writeFile(join(bootDir, 'bootstrap.json'), JSON.stringify(bootstrap));
    client = JsonLineChild.spawn(CLIENT, ['xds:///greeter'], { GRPC_XDS_BOOTSTRAP: join(bootDir, 'bootstrap.json') });
  });

  afterAll(async () => {
    await client?.stop();
    await plane?.close();
    await Promise.all(servers.map((s) => s.close()));
    for (const d of [dir, bootDir]) if (d) await rm(d, { recursive: true, force: true });
  });

  test('an 80/20 split lands within ±5 points over 1000 calls', async () => {
    const { counts, errors } = await client.ask<{ counts: Record<string, number>; errors: number }>({ op: 'count', calls: 1000 });
    expect(errors).toBe(0);
    expect((counts.v1 ?? 0) + (counts.v2 ?? 0)).toBe(1000);
    expect(counts.v1 / 10).toBeGreaterThanOrEqual(75);
    expect(counts.v1 / 10).toBeLessThanOrEqual(85);
  });

  test('a header match sends every call to v2', async () => {
    const { counts, errors } = await client.ask<{ counts: Record<string, number> }>({ op: 'count', calls: 200, headers: { 'x-canary': 'yes' } }) as { counts: Record<string, number>; errors: number };
    expect(errors).toBe(0);
    expect(counts).toEqual({ v2: 200 });
  });

  test('editing the VirtualService to 0/100 is followed within 2 s', async () => {
    await writeFile(join(dir, 'greeter-vs.yaml'), virtualService(0, 100));
    const { ms } = await client.ask<{ ms: number }>({ op: 'until', want: 'v2', streak: 50, timeoutMs: 5000 });
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThanOrEqual(2000);
    const { counts } = await client.ask<{ counts: Record<string, number> }>({ op: 'count', calls: 200 });
    expect(counts).toEqual({ v2: 200 });
  });

  test('the client shows up SYNCED in proxy status after ACKing', async () => {
    const res = await fetch(`http://127.0.0.1:${plane.debugPort}/debug/syncz`);
    const status = (await res.json()) as { id: string; types: Record<string, { state: string }> }[];
    const mine = status.find((p) => p.id.startsWith('grpc~127.0.0.1~interop-client'));
    expect(mine).toBeDefined();
    expect(JSON.stringify(mine)).toContain('SYNCED');
    expect(JSON.stringify(mine)).not.toContain('NACK');
  });
});
