/** kubectl's names for the kinds Trellis serves: `virtualservice.networking.istio.io/reviews`, plural, short names. */
export interface ResourceName {
  kind: string;
  /** API group, '' for core. */
  group: string;
  /** Lower-case plural, as in API paths and `kubectl get virtualservices`. */
  plural: string;
  singular: string;
  short: readonly string[];
}

export const RESOURCES: readonly ResourceName[] = [
  { kind: 'Pod', group: '', plural: 'pods', singular: 'pod', short: ['po'] },
  { kind: 'Service', group: '', plural: 'services', singular: 'service', short: ['svc'] },
  { kind: 'Namespace', group: '', plural: 'namespaces', singular: 'namespace', short: ['ns'] },
  { kind: 'Deployment', group: 'apps', plural: 'deployments', singular: 'deployment', short: ['deploy'] },
  { kind: 'VirtualService', group: 'networking.istio.io', plural: 'virtualservices', singular: 'virtualservice', short: ['vs'] },
  { kind: 'DestinationRule', group: 'networking.istio.io', plural: 'destinationrules', singular: 'destinationrule', short: ['dr'] },
  { kind: 'Gateway', group: 'networking.istio.io', plural: 'gateways', singular: 'gateway', short: ['gw'] },
  { kind: 'ServiceEntry', group: 'networking.istio.io', plural: 'serviceentries', singular: 'serviceentry', short: ['se'] },
  { kind: 'WorkloadEntry', group: 'networking.istio.io', plural: 'workloadentries', singular: 'workloadentry', short: ['we'] },
];

/** The resource a command-line word names: plural, singular, short name, or `plural.group` (`vs.networking.istio.io` too). */
export function resourceByName(word: string): ResourceName | undefined {
  const lower = word.toLowerCase();
  const dot = lower.indexOf('.');
  const [name, group] = dot < 0 ? [lower, undefined] : [lower.slice(0, dot), lower.slice(dot + 1)];
  return RESOURCES.find((r) => (group === undefined || r.group === group) && (r.plural === name || r.singular === name || r.short.includes(name)));
}

/** `virtualservice.networking.istio.io` / `service` / `deployment.apps`: how kubectl prints a kind in `apply`. */
export function qualifiedSingular(kind: string, apiVersion: string): string {
  const known = RESOURCES.find((r) => r.kind === kind);
  const group = known?.group ?? (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
  const singular = known?.singular ?? kind.toLowerCase();
  return group ? `${singular}.${group}` : singular;
}

/** `virtualservices.networking.istio.io`: how kubectl names a kind in NotFound errors. */
export function qualifiedPlural(kind: string, apiVersion: string): string {
  const known = RESOURCES.find((r) => r.kind === kind);
  const group = known?.group ?? (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
  const plural = known?.plural ?? `${kind.toLowerCase()}s`;
  return group ? `${plural}.${group}` : plural;
}
