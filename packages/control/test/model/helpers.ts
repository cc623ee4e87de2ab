import { parseConfigText, type ConfigIssue, type ParseResult } from '@trellis/control';

/** Parses objects written as JS values (JSON is YAML), one document each. */
export function parseObjects(...objects: object[]): ParseResult {
  return parseConfigText(objects.map((o) => JSON.stringify(o)).join('\n---\n'), 'test.yaml');
}

export interface Finding {
  path: string | undefined;
  message: string;
}

const pick = (i: ConfigIssue): Finding => ({ path: i.path, message: i.message });

export function errorsOf(res: ParseResult): Finding[] {
  return res.issues.filter((i) => i.severity === 'error').map(pick);
}

export function warningsOf(res: ParseResult): Finding[] {
  return res.issues.filter((i) => i.severity === 'warning').map(pick);
}

const istio = (kind: string) => (spec: object, name = 'r', namespace = 'ns') => ({
  apiVersion: 'networking.istio.io/v1',
  kind,
  metadata: { name, namespace },
  spec,
});

export const virtualService = istio('VirtualService');
export const destinationRule = istio('DestinationRule');
export const gateway = istio('Gateway');
export const serviceEntry = istio('ServiceEntry');
export const workloadEntry = istio('WorkloadEntry');

/** A minimal valid HTTP route to `host`, for specs where only another field is under test. */
export const routeTo = (host = 'reviews') => ({ route: [{ destination: { host } }] });
