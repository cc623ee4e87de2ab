import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeObjects, formatIssue, parseConfigText } from '@trellis/control';

const conformance = (dir: string) => fileURLToPath(new URL(`../../../../../shared/conformance/${dir}/`, import.meta.url));

// Istio's own samples are valid Istio config: no errors. The warnings below are the only ones expected,
// each for a reason Istio itself has (kinds Trellis doesn't model; istioctl's "rule not used" check).
const EXPECTED_WARNINGS: Record<string, string[]> = {
  'bookinfo.yaml': [
    'ServiceAccount/bookinfo-details: unsupported kind v1/ServiceAccount, ignored',
    'ServiceAccount/bookinfo-ratings: unsupported kind v1/ServiceAccount, ignored',
    'ServiceAccount/bookinfo-reviews: unsupported kind v1/ServiceAccount, ignored',
    'ServiceAccount/bookinfo-productpage: unsupported kind v1/ServiceAccount, ignored',
  ],
  // Trellis has no mTLS yet and says so rather than ignoring the mode silently.
  'destination-rule-all-mtls.yaml': ['productpage', 'reviews', 'ratings', 'details'].map(
    (name) => `DestinationRule/default/${name} spec.trafficPolicy.tls.mode: mTLS is not supported yet: tls.mode ISTIO_MUTUAL is ignored and connections stay plaintext`,
  ),
  'fault-injection-details-v1.yaml': [
    'VirtualService/default/details spec.http[1]: virtualService rule #1 not used (only the last rule can have no matches)',
  ],
};

describe.each(['istio-validation', 'istio-bookinfo'])('Istio conformance samples: %s', (dir) => {
  const files = readdirSync(conformance(dir)).filter((f) => f.endsWith('.yaml'));

  it('has samples to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files)('%s parses with no errors and only the expected warnings', (file) => {
    const text = readFileSync(conformance(dir) + file, 'utf8');
    const { objects, issues } = parseConfigText(text, file);
    const docs = text.split(/^---\s*$/m).filter((d) => /^kind:/m.test(d)).length;
    const unsupported = issues.filter((i) => i.message.startsWith('unsupported kind')).length;
    expect(issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([]);
    expect(objects.length + unsupported).toBe(docs);
    const warnings = issues.map((i) => formatIssue(i).replace(/^warning: \S+ /, ''));
    expect(warnings).toEqual(EXPECTED_WARNINGS[file] ?? []);
    // Within one file nothing is duplicated.
    expect(analyzeObjects(objects).filter((i) => i.severity === 'error')).toEqual([]);
  });
});

describe('bookinfo as a whole', () => {
  it('resolves every destination host and subset the samples use', () => {
    const dir = conformance('istio-bookinfo');
    const parse = (f: string) => parseConfigText(readFileSync(dir + f, 'utf8'), f).objects;
    const objects = ['bookinfo.yaml', 'destination-rule-all.yaml', 'virtual-service-all-v1.yaml', 'bookinfo-gateway.yaml'].flatMap(parse);
    expect(analyzeObjects(objects).map(formatIssue)).toEqual([]);
  });

  it('parses the typed fields translation relies on', () => {
    const text = readFileSync(conformance('istio-bookinfo') + 'virtual-service-reviews-80-20.yaml', 'utf8');
    const [vs] = parseConfigText(text, 'vs.yaml').objects;
    expect(vs).toMatchObject({
      kind: 'VirtualService',
      apiVersion: 'networking.istio.io/v1',
      metadata: { name: 'reviews', namespace: 'default', labels: {}, annotations: {} },
      origin: { file: 'vs.yaml', doc: 0 },
      spec: {
        hosts: ['reviews'],
        http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] }],
      },
    });
  });
});
