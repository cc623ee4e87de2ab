import { describe, expect, it } from 'vitest';
import { errorsOf, parseObjects } from './helpers.js';

const service = (spec: object, name = 'reviews') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const deployment = (spec: object) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'reviews-v1' }, spec });
const container = (extra: object = {}) => ({ name: 'app', image: 'app:1', ports: [{ containerPort: 9080 }], ...extra });
const podTemplate = (labels: object, spec: object = { containers: [container()] }) => ({ metadata: { labels }, spec });

describe('Service', () => {
  it('accepts the bookinfo shape and keeps the typed spec', () => {
    const res = parseObjects(service({ ports: [{ port: 9080, name: 'http', targetPort: 'http-web' }], selector: { app: 'reviews' } }));
    expect(res.issues).toEqual([]);
    expect(res.objects[0]).toMatchObject({ kind: 'Service', metadata: { namespace: 'default' }, spec: { ports: [{ port: 9080, name: 'http', targetPort: 'http-web' }] } });
  });

  it('checks ports', () => {
    expect(errorsOf(parseObjects(service({ ports: [{ port: 0, name: 'a' }, { port: 80, name: 'a', targetPort: 70000, protocol: 'HTTP' }, { port: 81 }, { port: 81, name: 'b', targetPort: 'bad--name' }] })))).toEqual([
      { path: 'spec.ports[0].port', message: 'port number 0 must be in the range 1..65535' },
      { path: 'spec.ports[1].protocol', message: 'must be one of TCP, UDP, SCTP, got "HTTP"' },
      { path: 'spec.ports[1].targetPort', message: 'port number 70000 must be in the range 1..65535' },
      { path: 'spec.ports[1].name', message: 'duplicate port name "a"' },
      { path: 'spec.ports[2].name', message: 'port name is required when a service has more than one port' },
      { path: 'spec.ports[3].targetPort', message: 'a named targetPort must be a container port name: "bad--name" must not contain consecutive hyphens' },
      { path: 'spec.ports[3].port', message: 'duplicate port 81/TCP' },
    ]);
  });

  it('requires ports unless headless or ExternalName', () => {
    expect(errorsOf(parseObjects(service({ selector: { app: 'x' } })))).toEqual([{ path: 'spec.ports', message: 'at least one port is required' }]);
    expect(errorsOf(parseObjects(service({ clusterIP: 'None', selector: { app: 'x' } })))).toEqual([]);
    expect(errorsOf(parseObjects(service({ type: 'ExternalName' })))).toEqual([]);
  });
});

describe('Deployment', () => {
  it('accepts a runnable deployment', () => {
    const res = parseObjects(deployment({ replicas: 2, selector: { matchLabels: { app: 'reviews' } }, template: podTemplate({ app: 'reviews', version: 'v1' }) }));
    expect(res.issues).toEqual([]);
    expect(res.objects[0]).toMatchObject({ spec: { replicas: 2, template: { spec: { containers: [{ name: 'app' }] } } } });
  });

  it('requires containers', () => {
    expect(errorsOf(parseObjects(deployment({ selector: { matchLabels: { app: 'r' } }, template: podTemplate({ app: 'r' }, { containers: [] }) })))).toEqual([
      { path: 'spec.template.spec.containers', message: 'at least one container is required' },
    ]);
    expect(errorsOf(parseObjects(deployment({ selector: { matchLabels: { app: 'r' } } })))).toEqual([{ path: 'spec.template', message: 'template is required' }]);
  });

  it('requires the selector to match the template labels', () => {
    expect(errorsOf(parseObjects(deployment({ selector: { matchLabels: { app: 'r' } }, template: podTemplate({ app: 'other' }) })))).toEqual([
      { path: 'spec.template.metadata.labels', message: 'selector does not match template labels (needs app: r)' },
    ]);
    expect(errorsOf(parseObjects(deployment({ template: podTemplate({ app: 'r' }) })))).toEqual([{ path: 'spec.selector', message: 'selector is required' }]);
  });

  it('checks containers, their ports and env', () => {
    const spec = {
      containers: [
        container({ ports: [{ containerPort: 99999, name: 'http' }, { containerPort: 80, name: 'http' }], env: [{ name: 'PORT', value: 9080 }] }),
        container({ name: 'App_2', command: ['node', 3] }),
        container(),
      ],
    };
    expect(errorsOf(parseObjects(deployment({ selector: { matchLabels: { app: 'r' } }, template: podTemplate({ app: 'r' }, spec) })))).toEqual([
      { path: 'spec.template.spec.containers[0].env[0].value', message: 'must be a string, got 9080' },
      { path: 'spec.template.spec.containers[0].ports[0].containerPort', message: 'port number 99999 must be in the range 1..65535' },
      { path: 'spec.template.spec.containers[0].ports[1].name', message: 'duplicate port name "http"' },
      { path: 'spec.template.spec.containers[1].name', message: expect.stringMatching(/^"App_2" must be a lowercase RFC 1123 label/) },
      { path: 'spec.template.spec.containers[1].command[1]', message: 'must be a string, got 3' },
      { path: 'spec.template.spec.containers[2].name', message: 'duplicate container name "app"' },
    ]);
  });
});

describe('Pod and Namespace', () => {
  it('reads a pod with its status', () => {
    const res = parseObjects({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team', labels: { app: 'a' } }, spec: { containers: [container()] }, status: { podIP: '127.0.1.2', phase: 'Running' } });
    expect(res.issues).toEqual([]);
    expect(res.objects[0]).toMatchObject({ kind: 'Pod', status: { podIP: '127.0.1.2', phase: 'Running' }, metadata: { namespace: 'team' } });
  });

  it('checks the pod IP', () => {
    expect(errorsOf(parseObjects({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [container()] }, status: { podIP: '999.1.1.1' } }))).toEqual([
      { path: 'status.podIP', message: '999.1.1.1 is not a valid IP' },
    ]);
  });

  it('treats Namespace as cluster-scoped', () => {
    const res = parseObjects({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', namespace: 'x' } });
    expect(res.objects[0]!.metadata.namespace).toBe('');
    expect(res.issues.map((i) => i.message)).toEqual(['Namespace is cluster-scoped; metadata.namespace is ignored']);
  });
});
