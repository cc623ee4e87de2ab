import { describe, expect, it } from 'vitest';
import { SidecarTelemetry } from '../../src/telemetry/sidecar-telemetry.js';

describe('Istio request metrics switch (trellis proxy --metrics off / TRELLIS_METRICS=off)', () => {
  const workload = { workloadName: 'client', namespace: 'bench', labels: { app: 'client' } };
  const noClusters = () => new Map();

  it('records by default: the Istio metrics sink runs at every stream end', () => {
    const t = new SidecarTelemetry({ workload }, noClusters);
    expect(t.sinks).toContain(t.metrics.sink);
  });

  it('off: no sink records Istio metrics (cluster stats are still read at scrape time)', async () => {
    const t = new SidecarTelemetry({ workload, istioMetrics: false }, noClusters);
    expect(t.sinks).toEqual([]);
    expect(await t.registry.getSingleMetricAsString('istio_requests_total')).not.toMatch(/istio_requests_total\{/);
  });
});
