/** OutlierDetection (Istio's validateOutlierDetection). */
import type { OutlierDetection } from '../istio-types.js';
import { validateDurationAtLeast1ms } from './duration.js';
import type { FieldPath } from './path.js';
import { validatePercentInt } from './percent.js';
import type { Reporter } from './reporter.js';

export function validateOutlierDetection(od: OutlierDetection | undefined, path: FieldPath, r: Reporter): void {
  if (!od) return;
  validateDurationAtLeast1ms(od.baseEjectionTime, [...path, 'baseEjectionTime'], r);
  validateDurationAtLeast1ms(od.interval, [...path, 'interval'], r);
  if (!od.splitExternalLocalOriginErrors && (od.consecutiveLocalOriginFailures ?? 0) > 0) {
    r.error([...path, 'consecutiveLocalOriginFailures'], 'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false');
  }
  validatePercentInt(od.maxEjectionPercent, [...path, 'maxEjectionPercent'], r);
  validatePercentInt(od.minHealthPercent, [...path, 'minHealthPercent'], r);
}
