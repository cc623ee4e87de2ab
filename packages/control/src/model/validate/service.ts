/** Kubernetes Service: the ports and selector the registry builds services from. */
import type { ServiceSpec } from '../kube-types.js';
import { isIPAddress } from './hosts.js';
import { dns1123LabelError, ianaSvcNameError } from './kube-names.js';
import { checkLabelMap, checkObject, checkOptionalInt, checkOptionalList, checkOptionalString, checkPortNumber, checkProtocol } from './kube-fields.js';
import type { ValidationContext } from './context.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';
import { describe } from './field-walker.js';

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

export function validateService(raw: unknown, ctx: ValidationContext, path: FieldPath): ServiceSpec | undefined {
  const { r } = ctx;
  const spec = raw ?? {};
  if (!checkObject(spec, path, r)) return undefined;
  checkLabelMap(spec.selector, [...path, 'selector'], r);
  if (spec.type !== undefined && spec.type !== null && !SERVICE_TYPES.includes(spec.type as string)) {
    r.shapeError([...path, 'type'], `must be one of ${SERVICE_TYPES.join(', ')}, got ${describe(spec.type)}`);
  }
  if (checkOptionalString(spec.clusterIP, [...path, 'clusterIP'], r)) {
    const ip = spec.clusterIP as string | undefined;
    if (ip && ip !== 'None' && !isIPAddress(ip)) r.error([...path, 'clusterIP'], `${ip} is not a valid IP (or "None")`);
  }
  const ports = spec.ports;
  if (!checkOptionalList(ports, [...path, 'ports'], r)) return undefined;
  // Only ExternalName and headless services may have no ports.
  if (!ports?.length && spec.type !== 'ExternalName' && spec.clusterIP !== 'None') r.error([...path, 'ports'], 'at least one port is required');
  validateServicePorts(ports ?? [], [...path, 'ports'], r);
  return spec as ServiceSpec;
}

function validateServicePorts(ports: unknown[], path: FieldPath, r: Reporter): void {
  const names = new Set<string>();
  const numbers = new Set<string>();
  ports.forEach((p, i) => {
    const at = [...path, i];
    if (!checkObject(p, at, r)) return;
    checkPortNumber(p.port, [...at, 'port'], r, true);
    checkProtocol(p.protocol, [...at, 'protocol'], r);
    checkOptionalString(p.appProtocol, [...at, 'appProtocol'], r);
    checkOptionalInt(p.nodePort, [...at, 'nodePort'], r, 0);
    validateTargetPort(p.targetPort, [...at, 'targetPort'], r);
    const key = `${String(p.port)}/${String(p.protocol ?? 'TCP')}`;
    if (numbers.has(key)) r.error([...at, 'port'], `duplicate port ${key}`);
    numbers.add(key);
    if (p.name === undefined || p.name === null || p.name === '') {
      if (ports.length > 1) r.error([...at, 'name'], 'port name is required when a service has more than one port');
    } else if (checkOptionalString(p.name, [...at, 'name'], r)) {
      const name = p.name as string;
      const err = dns1123LabelError(name);
      if (err) r.error([...at, 'name'], err);
      if (names.has(name)) r.error([...at, 'name'], `duplicate port name "${name}"`);
      names.add(name);
    }
  });
}

function validateTargetPort(v: unknown, path: FieldPath, r: Reporter): void {
  if (v === undefined || v === null) return;
  if (typeof v === 'string') {
    const err = ianaSvcNameError(v);
    if (err) r.error(path, `a named targetPort must be a container port name: ${err}`);
  } else {
    checkPortNumber(v, path, r, false);
  }
}
