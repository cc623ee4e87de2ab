import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleProtos } from '../src/bundle-protos.js';
import { envoyRoot, BUNDLE_URL } from '../src/protos.js';
import { loadRootFromProtos } from '../src/proto-sources.js';

describe('envoy-protos.json', () => {
  it('is what Envoy\'s protos in node_modules make today (else: npm run protos)', () => {
    const committed = JSON.parse(readFileSync(BUNDLE_URL, 'utf8'));
    expect(committed).toEqual(bundleProtos());
  });

  it('encodes and decodes like the parsed protos, byte for byte', () => {
    const parsed = loadRootFromProtos();
    const cluster = {
      name: 'outbound|80||a.default.svc.cluster.local',
      type: 'EDS',
      connect_timeout: { seconds: 10, nanos: 0 },
      lb_policy: 'RING_HASH',
      ring_hash_lb_config: { minimum_ring_size: { value: 1024 } },
      outlier_detection: { consecutive_5xx: { value: 5 }, interval: { seconds: 10, nanos: 0 } },
      circuit_breakers: { thresholds: [{ max_connections: { value: 1 }, max_retries: { value: 3 } }] },
    };
    const name = 'envoy.config.cluster.v3.Cluster';
    const a = envoyRoot().lookupType(name);
    const b = parsed.lookupType(name);
    const bytes = a.encode(a.fromObject(cluster)).finish();
    expect(Buffer.from(bytes)).toEqual(Buffer.from(b.encode(b.fromObject(cluster)).finish()));
    expect(a.toObject(a.decode(bytes), { enums: String })).toEqual(b.toObject(b.decode(bytes), { enums: String }));
  });
});
