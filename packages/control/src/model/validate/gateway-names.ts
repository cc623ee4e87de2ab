/** Gateway references in a VirtualService (`gateways`, `match[].gateways`): `mesh`, `name` or `namespace/name`. */
import { isDNS1123Label, validateFQDN } from './hosts.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';
import { each } from './context.js';

export const MESH_GATEWAY = 'mesh';

export function validateGatewayNames(names: readonly (string | null)[] | undefined, path: FieldPath, r: Reporter): void {
  each(names, path, (name, at) => {
    const slash = name.indexOf('/');
    if (slash < 0) {
      if (name.includes('.')) {
        const [gw, ns] = name.split('.');
        r.warn(at, `using legacy gatewayName format "${name}"; prefer the <namespace>/<name> format: "${ns}/${gw}"`);
      }
      const err = validateFQDN(name);
      if (err) r.error(at, err);
      return;
    }
    const [ns, gw] = [name.slice(0, slash), name.slice(slash + 1)];
    if (ns === '' || gw === '') r.error(at, 'config namespace and gateway name cannot be empty');
    if (!isDNS1123Label(ns)) r.error(at, `invalid value for namespace: "${ns}"`);
    if (!isDNS1123Label(gw)) r.error(at, `invalid value for gateway name: "${gw}"`);
  });
}
