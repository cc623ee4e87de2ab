import type { VirtualService } from '../../model/objects.js';
import { isExportedTo } from '../../model/visibility.js';
import type { TranslateInput } from '../types.js';

export const MESH_GATEWAY = 'mesh';

/**
 * A gateway reference as Istio resolves it: `ns/name` as written, `name` in the VirtualService's namespace,
 * the legacy `name.ns...` form as `ns/name`; `mesh` stays `mesh`.
 */
export function resolveGatewayName(name: string, vsNamespace: string): string {
  if (name === MESH_GATEWAY || name.includes('/')) return name;
  const dot = name.indexOf('.');
  if (dot < 0) return `${vsNamespace}/${name}`;
  const [gw, ns] = name.split('.');
  return `${ns}/${gw}`;
}

/** Whether one of `names` (resolved against `vsNamespace`) is the Gateway `gatewayName` (`ns/name`). */
export function namesGateway(names: readonly (string | null)[] | undefined, vsNamespace: string, gatewayName: string): boolean {
  return (names ?? []).some((n) => typeof n === 'string' && resolveGatewayName(n, vsNamespace) === gatewayName);
}

/**
 * VirtualServices bound to a Gateway (`gateways:` names it), visible to the gateway proxy's namespace, in
 * config order. A VirtualService without `gateways` binds to sidecars only.
 */
export function virtualServicesForGateway(input: TranslateInput, gatewayName: string): VirtualService[] {
  return input.config.virtualServices.filter(
    (vs) =>
      namesGateway(vs.spec?.gateways, vs.metadata.namespace, gatewayName) &&
      isExportedTo(vs.spec.exportTo, vs.metadata.namespace, input.proxy.namespace),
  );
}
