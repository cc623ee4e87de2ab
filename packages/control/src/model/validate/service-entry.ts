/** ServiceEntry (Istio's ValidateServiceEntry). */
import type { ServiceEntrySpec } from '../istio-types.js';
import { each, type ValidationContext } from './context.js';
import { validateExportTo } from './export-to.js';
import { isIPAddress, validateFQDN, validateIPSubnet, validatePartialWildcard, validateWildcardDomain } from './hosts.js';
import { validateLabels, validateWorkloadSelector } from './labels.js';
import type { FieldPath } from './path.js';
import { isHTTPProtocol, isTCPProtocol, isTLSProtocol, parseProtocol, validatePort, validatePortName } from './ports.js';
import type { Reporter } from './reporter.js';
import { validateWorkload } from './workload-entry.js';

export function validateServiceEntry(spec: ServiceEntrySpec, ctx: ValidationContext, path: FieldPath): void {
  const { r } = ctx;
  const resolution = spec.resolution ?? 'NONE';
  if (spec.workloadSelector) {
    validateWorkloadSelector(spec.workloadSelector.labels ?? {}, [...path, 'workloadSelector', 'labels'], r, 'the service entry will select all workloads in the namespace');
    if (spec.endpoints) r.error(path, 'only one of WorkloadSelector or Endpoints is allowed in Service Entry');
  }
  validateHosts(spec, path, r);
  validateAddresses(spec, resolution, path, r);
  const servicePorts = validatePorts(spec, path, r);

  switch (resolution) {
    case 'NONE':
      if (spec.endpoints?.length) r.error([...path, 'endpoints'], 'no endpoints should be provided for resolution type none');
      if (spec.workloadSelector) r.warn([...path, 'workloadSelector'], 'workloadSelector should not be set when resolution mode is NONE');
      break;
    case 'STATIC':
      each(spec.endpoints, [...path, 'endpoints'], (ep, at) => validateWorkload(ep, at, r, { servicePorts, allowFQDN: false }));
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      validateDNSResolution(spec, resolution, servicePorts, path, r);
      break;
  }

  // Plain TCP carries no host name, so one port can't serve several hosts unless nothing is resolved.
  if (resolution !== 'NONE' && (spec.hosts?.length ?? 0) > 1) {
    const opaque = spec.ports?.findIndex((p) => p && !isHTTPProtocol(parseProtocol(p.protocol)) && !isTLSProtocol(parseProtocol(p.protocol))) ?? -1;
    if (opaque >= 0) r.error([...path, 'ports', opaque], 'multiple hosts provided with non-HTTP, non-TLS ports');
  }
  validateExportTo(spec.exportTo, ctx.namespace, [...path, 'exportTo'], r, { isServiceEntry: true });
}

function validateHosts(spec: ServiceEntrySpec, path: FieldPath, r: Reporter): void {
  if (!spec.hosts?.length) r.error([...path, 'hosts'], 'service entry must have at least one host');
  each(spec.hosts, [...path, 'hosts'], (host, at) => {
    if (host === '*') {
      r.error(at, `invalid host ${host}`);
      return;
    }
    const err = validateWildcardDomain(host);
    if (err) r.error(at, err);
    const partial = validatePartialWildcard(host);
    if (partial) r.warn(at, partial);
  });
}

function validateAddresses(spec: ServiceEntrySpec, resolution: string, path: FieldPath, r: Reporter): void {
  let cidr = false;
  each(spec.addresses, [...path, 'addresses'], (address, at) => {
    cidr ||= address.includes('/');
    const err = validateIPSubnet(address);
    if (err) r.error(at, err);
  });
  if (cidr && resolution !== 'NONE' && resolution !== 'STATIC') {
    r.error([...path, 'addresses'], 'CIDR addresses are allowed only for NONE/STATIC resolution types');
  }
}

/** Checks the ports and returns their names, which endpoints refer to. */
function validatePorts(spec: ServiceEntrySpec, path: FieldPath, r: Reporter): Set<string> {
  const names = new Set<string>();
  const numbers = new Set<number>();
  each(spec.ports, [...path, 'ports'], (port, at) => {
    const name = port.name ?? '';
    if (names.has(name)) r.error([...at, 'name'], `service entry port name "${name}" already defined`);
    names.add(name);
    if (port.number !== undefined) {
      if (numbers.has(port.number)) r.error([...at, 'number'], `service entry port ${port.number} already defined`);
      numbers.add(port.number);
    }
    if (port.targetPort !== undefined && port.targetPort !== 0) validatePort(port.targetPort, [...at, 'targetPort'], r);
    if (!spec.addresses?.length && (!port.protocol || port.protocol === 'TCP')) {
      r.warn(at, 'addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled');
    }
    validatePortName(port.name, [...at, 'name'], r);
    if (port.protocol && parseProtocol(port.protocol) === undefined) r.error([...at, 'protocol'], `unsupported protocol: ${port.protocol}`);
    if (port.number === undefined) r.error([...at, 'number'], 'port number is required');
    else validatePort(port.number, [...at, 'number'], r);
  });
  return names;
}

function validateDNSResolution(spec: ServiceEntrySpec, resolution: string, servicePorts: ReadonlySet<string>, path: FieldPath, r: Reporter): void {
  if (!spec.endpoints?.length) {
    each(spec.hosts, [...path, 'hosts'], (host, at) => {
      if (validateFQDN(host)) r.error(at, `hosts must be FQDN if no endpoints are provided for resolution mode ${resolution}`);
    });
  }
  if (resolution === 'DNS_ROUND_ROBIN' && (spec.endpoints?.length ?? 0) > 1) {
    r.error([...path, 'endpoints'], `there must only be 0 or 1 endpoint for resolution mode ${resolution}`);
  }
  each(spec.endpoints, [...path, 'endpoints'], (ep, at) => {
    const address = ep.address ?? '';
    if (!isIPAddress(address) && validateFQDN(address)) r.error([...at, 'address'], `endpoint address "${address}" is not a valid FQDN or an IP address`);
    validateLabels(ep.labels, [...at, 'labels'], r);
    for (const [name, port] of Object.entries(ep.ports ?? {})) {
      if (!servicePorts.has(name)) r.error([...at, 'ports', name], `endpoint port ${port} is not defined by the service entry`);
      validatePortName(name, [...at, 'ports', name], r);
      validatePort(port, [...at, 'ports', name], r);
    }
  });
  if (spec.addresses?.length && (spec.hosts?.length ?? 0) > 1) {
    const tcp = spec.ports?.findIndex((p) => p && isTCPProtocol(parseProtocol(p.protocol))) ?? -1;
    if (tcp >= 0) r.warn([...path, 'ports', tcp], 'service entry can not have more than one host specified simultaneously with address and tcp port');
  }
}
