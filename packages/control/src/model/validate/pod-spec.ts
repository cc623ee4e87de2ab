/** The parts of a PodSpec Trellis runs and routes with: containers, their ports, command and env. */
import type { PodSpec } from '../kube-types.js';
import { dns1123LabelError, ianaSvcNameError } from './kube-names.js';
import {
  checkObject,
  checkOptionalInt,
  checkOptionalList,
  checkOptionalString,
  checkPortNumber,
  checkProtocol,
  checkStringList,
} from './kube-fields.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export function validatePodSpec(spec: unknown, path: FieldPath, r: Reporter): spec is PodSpec {
  if (spec === undefined || spec === null) {
    r.error(path, 'pod spec is required');
    return false;
  }
  if (!checkObject(spec, path, r)) return false;
  checkOptionalString(spec.serviceAccountName, [...path, 'serviceAccountName'], r);
  const containers = spec.containers;
  const at = [...path, 'containers'];
  if (!checkOptionalList(containers, at, r)) return false;
  if (!containers?.length) {
    r.error(at, 'at least one container is required');
    return false;
  }
  const names = new Set<string>();
  containers.forEach((c, i) => validateContainer(c, [...at, i], names, r));
  return true;
}

function validateContainer(c: unknown, path: FieldPath, names: Set<string>, r: Reporter): void {
  if (!checkObject(c, path, r)) return;
  if (typeof c.name !== 'string') {
    if (c.name === undefined || c.name === null) r.error([...path, 'name'], 'container name is required');
    else checkOptionalString(c.name, [...path, 'name'], r);
  } else {
    const err = dns1123LabelError(c.name);
    if (err) r.error([...path, 'name'], err);
    if (names.has(c.name)) r.error([...path, 'name'], `duplicate container name "${c.name}"`);
    names.add(c.name);
  }
  for (const field of ['image', 'workingDir'] as const) checkOptionalString(c[field], [...path, field], r);
  for (const field of ['command', 'args'] as const) checkStringList(c[field], [...path, field], r);
  validateEnv(c.env, [...path, 'env'], r);
  validateContainerPorts(c.ports, [...path, 'ports'], r);
}

function validateEnv(env: unknown, path: FieldPath, r: Reporter): void {
  if (!checkOptionalList(env, path, r) || !env) return;
  env.forEach((e, i) => {
    if (!checkObject(e, [...path, i], r)) return;
    if (typeof e.name !== 'string' || e.name === '') r.error([...path, i, 'name'], 'env name is required');
    // Kubernetes takes only strings here: `value: 8080` must be quoted.
    checkOptionalString(e.value, [...path, i, 'value'], r);
  });
}

function validateContainerPorts(ports: unknown, path: FieldPath, r: Reporter): void {
  if (!checkOptionalList(ports, path, r) || !ports) return;
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const at = [...path, i];
    if (!checkObject(p, at, r)) return;
    checkPortNumber(p.containerPort, [...at, 'containerPort'], r, true);
    checkOptionalInt(p.hostPort, [...at, 'hostPort'], r, 0);
    checkProtocol(p.protocol, [...at, 'protocol'], r);
    if (p.name !== undefined && p.name !== null && checkOptionalString(p.name, [...at, 'name'], r)) {
      const name = p.name as string;
      const err = ianaSvcNameError(name);
      if (err) r.error([...at, 'name'], err);
      if (names.has(name)) r.error([...at, 'name'], `duplicate port name "${name}"`);
      names.add(name);
    }
  });
}
