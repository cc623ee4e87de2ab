/** `exportTo` (visibility): ".", "*", "~" or namespace names, no duplicates, "*" alone. */
import { isDNS1123Label } from './hosts.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export interface ExportToRules {
  isServiceEntry?: boolean;
  /** A DestinationRule with a workloadSelector may only be exported to its own namespace. */
  destinationRuleWithSelector?: boolean;
}

export function validateExportTo(exportTo: readonly (string | null)[] | undefined, namespace: string, path: FieldPath, r: Reporter, rules: ExportToRules = {}): void {
  if (!exportTo || exportTo.length === 0) return;
  const seen = new Set<string>();
  exportTo.forEach((e, i) => {
    if (e === null) return;
    const key = e === '.' ? namespace : e;
    if (seen.has(key)) {
      r.error([...path, i], key !== e ? `duplicate entries in exportTo: . and current namespace ${namespace}` : `duplicate entries in exportTo for entry ${e}`);
      return;
    }
    if (e !== '.' && e !== '*' && e !== '~' && !isDNS1123Label(e)) {
      r.error([...path, i], `only ".", "*", "~" or a namespace name (DNS-1123 label) is allowed as exportTo entry, got "${e}"`);
      return;
    }
    seen.add(key);
  });
  if (rules.destinationRuleWithSelector && seen.size > 0) {
    if (!seen.has(namespace)) r.error(path, 'destination rule with workload selector cannot have exportTo beyond current namespace');
    else if (seen.size > 1) r.error(path, 'destination rule with workload selector cannot have multiple entries in exportTo');
  }
  if (seen.has('*') && exportTo.length > 1) r.error(path, 'cannot have both public (*) and non-public exportTo values for a resource');
  if (seen.has('~') && exportTo.length > 1) r.error(path, 'cannot export service entry to no one (~) and someone');
}
