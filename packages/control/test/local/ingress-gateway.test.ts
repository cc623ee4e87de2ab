import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { definesIngressGateway, ingressGatewayDefaults, INGRESS_GATEWAY } from '../../src/local/ingress-gateway.js';
import { analyzeObjects } from '../../src/model/analyze.js';
import type { MeshConfig } from '../../src/model/mesh-config.js';
import { parseConfigText } from '../../src/model/parse.js';
import { buildRegistry } from '../../src/registry/build.js';
import { DirectorySource } from '../../src/sources/directory-source.js';
import { deploymentYaml } from './helpers.js';

// Local mode's built-in ingress gateway: added to the folder's config as defaults, unless the folder runs its own.
const OPTS = { proxyCommand: ['node', '/opt/trellis/bin/trellis.js', 'proxy'], controlPlane: '127.0.0.1:15010' };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function source(files: Record<string, string>): Promise<DirectorySource> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-ingress-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const s = new DirectorySource(dir, { parse: parseConfigText, analyze: analyzeObjects, debounceMs: 20 });
  await s.start();
  return s;
}

const gatewayObjects = (c: MeshConfig) => c.objects.filter((o) => o.metadata.namespace === INGRESS_GATEWAY.namespace && o.metadata.name === INGRESS_GATEWAY.name);

describe('ingress gateway defaults', () => {
  test('a folder without its own gateway gets istio-ingressgateway: a `trellis proxy --gateway` Deployment and a Service 80->8080, 443->8443', async () => {
    const s = await source({ 'app.yaml': deploymentYaml({ name: 'web', namespace: 'default' }) });
    s.setDefaults(ingressGatewayDefaults(OPTS));
    const [deployment, service] = gatewayObjects(s.current());
    expect(deployment?.kind).toBe('Deployment');
    const container = (deployment as any).spec.template.spec.containers[0];
    expect(container.command).toEqual([...OPTS.proxyCommand, '--gateway']);
    expect((deployment as any).spec.template.metadata.labels).toEqual({ app: 'istio-ingressgateway', istio: 'ingressgateway' });
    expect(container.env).toContainEqual({ name: 'TRELLIS_CONTROL_PLANE', value: '127.0.0.1:15010' });
    const registry = buildRegistry(s.current(), []);
    const svc = registry.lookup('istio-ingressgateway.istio-system');
    expect(svc?.ports.map((p) => [p.port, p.targetPort])).toEqual([[80, 8080], [443, 8443]]);
    expect(service?.kind).toBe('Service');
    s.close();
  });

  test('a folder that runs its own istio: ingressgateway pods keeps them and gets no built-in; live, as files change', async () => {
    const own = `apiVersion: apps/v1
kind: Deployment
metadata: { name: my-gateway, namespace: gateways }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  template:
    metadata: { labels: { istio: ingressgateway } }
    spec: { containers: [{ name: gw, command: [node, gw.js] }] }
`;
    const s = await source({ 'own.yaml': own });
    s.setDefaults(ingressGatewayDefaults(OPTS));
    expect(gatewayObjects(s.current())).toEqual([]);
    expect(definesIngressGateway(s.current().objects)).toBe(true);
    const changed = new Promise<MeshConfig>((r) => s.once('change', r));
    rmSync(join(dirs[0]!, 'own.yaml'));
    expect(gatewayObjects(await changed).map((o) => o.kind)).toEqual(['Deployment', 'Service']);
    s.setDefaults(undefined);
    expect(gatewayObjects(s.current())).toEqual([]);
    s.close();
  });
});
