import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ControlPlane } from '../../src/control-plane.js';
import { eventually, getJson } from '../local/helpers.js';

const vs = (name: string, ns: string, subset: string) => `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}, labels: {team: books}}
spec:
  hosts: [${name}]
  http:
  - route:
    - destination: {host: ${name}, subset: ${subset}}
`;

describe('API /api/v1/config: the running config by kind, and where it is read from', () => {
  let dir: string;
  let plane: ControlPlane;
  let api: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-config-api-'));
    await writeFile(join(dir, 'routes.yaml'), `${vs('reviews', 'default', 'v1')}---\n${vs('ratings', 'shop', 'v1')}---\n${vs('details', 'default', 'v1')}`);
    await writeFile(join(dir, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\nspec:\n  clusterIP: 10.0.0.9\n  ports: [{port: 9080, name: http}]\n');
    // A relative folder, as `trellis up examples/bookinfo` gets it: the API answers with the absolute path.
    plane = await ControlPlane.start({ configDir: relative(process.cwd(), dir), xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiPort: 0, debounceMs: 30 });
    api = `http://127.0.0.1:${plane.apiPort}`;
  });
  afterAll(async () => {
    await plane?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('GET /api/v1/config: the absolute folder and the counts', async () => {
    const { status, body } = await getJson(`${api}/api/v1/config`);
    expect(status).toBe(200);
    // (the warnings are the subsets no DestinationRule defines)
    expect(body).toEqual({ configDir: dir, objects: 4, errors: 0, warnings: expect.any(Number) });
  });

  test('a kind as a List: apiVersion as written, metadata with a creation time, the validated spec; sorted by namespace and name', async () => {
    const { body } = await getJson(`${api}/api/v1/config/virtualservices`);
    expect(body.kind).toBe('List');
    expect(body.items.map((o: any) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['default/details', 'default/reviews', 'shop/ratings']);
    expect(body.items[1]).toEqual({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default', labels: { team: 'books' }, creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] },
    });
    const shop = await getJson(`${api}/api/v1/config/virtualservices?namespace=shop`);
    expect(shop.body.items.map((o: any) => o.metadata.name)).toEqual(['ratings']);
    const svc = await getJson(`${api}/api/v1/config/services`);
    expect(svc.body.items[0].spec).toMatchObject({ clusterIP: '10.0.0.9', ports: [{ port: 9080, name: 'http' }] });
    expect((await getJson(`${api}/api/v1/config/gateways`)).body.items).toEqual([]);
  });

  test('an edited object keeps its creation time; a removed one leaves the list', async () => {
    const before = (await getJson(`${api}/api/v1/config/virtualservices?namespace=default`)).body.items;
    await writeFile(join(dir, 'routes.yaml'), `${vs('reviews', 'default', 'v3')}---\n${vs('ratings', 'shop', 'v1')}`);
    const after = await eventually('the edit served', async () => {
      const items = (await getJson(`${api}/api/v1/config/virtualservices?namespace=default`)).body.items;
      return items.length === 1 && items;
    });
    expect(after[0].spec.http[0].route[0].destination.subset).toBe('v3');
    expect(after[0].metadata.creationTimestamp).toBe(before.find((o: any) => o.metadata.name === 'reviews').metadata.creationTimestamp);
  });

  test('an unknown resource is a NotFound Status', async () => {
    const { status, body } = await getJson(`${api}/api/v1/config/configmaps`);
    expect(status).toBe(404);
    expect(body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: expect.stringContaining('virtualservices') });
    expect((await getJson(`${api}/api/v1/config/toString`)).status).toBe(404);
  });
});
