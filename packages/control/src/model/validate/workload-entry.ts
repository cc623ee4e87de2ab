/** WorkloadEntry, alone or as a ServiceEntry endpoint (Istio's validateWorkloadEntry). */
import type { WorkloadEntrySpec } from '../istio-types.js';
import type { ValidationContext } from './context.js';
import { isIPAddress, validateFQDN } from './hosts.js';
import { validateLabels } from './labels.js';
import type { FieldPath } from './path.js';
import { validatePort, validatePortName } from './ports.js';
import type { Reporter } from './reporter.js';

const UNIX_PREFIX = 'unix://';

export function validateWorkloadEntry(spec: WorkloadEntrySpec, ctx: ValidationContext, path: FieldPath): void {
  validateWorkload(spec, path, ctx.r, { allowFQDN: true });
}

export interface WorkloadRules {
  /** Names of the ServiceEntry's ports, which endpoint ports must refer to. */
  servicePorts?: ReadonlySet<string>;
  /** A DNS name is allowed unless the ServiceEntry resolution is STATIC. */
  allowFQDN: boolean;
}

export function validateWorkload(we: WorkloadEntrySpec, path: FieldPath, r: Reporter, rules: WorkloadRules): void {
  const addr = we.address ?? '';
  if (addr === '') {
    if (!we.network) {
      r.error([...path, 'address'], 'address is required');
      return;
    }
    // Reached through the network's gateway.
    r.warn([...path, 'address'], `address is unset with network "${we.network}"`);
  }
  const unix = addr.startsWith(UNIX_PREFIX);
  if (unix) {
    const socket = addr.slice(UNIX_PREFIX.length);
    if (socket === '') r.error([...path, 'address'], 'unix address must not be empty');
    else if (!socket.startsWith('@') && (!socket.startsWith('/') || socket.endsWith('/'))) r.error([...path, 'address'], `${socket} is not an absolute path to a file`);
    if (Object.keys(we.ports ?? {}).length > 0) r.error([...path, 'ports'], `unix endpoint ${addr} must not include ports`);
  } else if (addr !== '' && !isIPAddress(addr)) {
    if (!rules.allowFQDN) r.error([...path, 'address'], `endpoint address "${addr}" is not a valid IP address`);
    else if (validateFQDN(addr)) r.error([...path, 'address'], `endpoint address "${addr}" is not a valid FQDN or an IP address`);
  }
  for (const [name, port] of Object.entries(we.ports ?? {})) {
    const at = [...path, 'ports', name];
    if (rules.servicePorts && !rules.servicePorts.has(name)) r.error(at, `endpoint port ${port} is not defined by the service entry`);
    validatePortName(name, at, r);
    validatePort(port, at, r);
  }
  validateLabels(we.labels, [...path, 'labels'], r);
  if (unix && rules.servicePorts && rules.servicePorts.size !== 1) r.error(path, 'exactly 1 service port required for unix endpoints');
}
