import { IdentityError, xdsNodeId, type SidecarIdentity } from '../bootstrap/identity.js';
import type { TracingOptions } from './tracer.js';

/** Envoy's (and Istio's) default: 1% of new traces. */
export const DEFAULT_TRACE_SAMPLING = 1;
/** OTLP/HTTP's standard port; the control plane's collector listens there by default. */
export const DEFAULT_COLLECTOR_PORT = 4318;

/** `--trace-sampling PCT`, `--trace-collector URL|off`; each overrides TRELLIS_TRACE_SAMPLING / TRELLIS_TRACE_COLLECTOR. */
export interface TracingFlags {
  traceSampling?: string;
  traceCollector?: string;
}

/**
 * The sidecar's tracing settings: sampling (default 1%), the collector (default: the control plane's, on
 * its host at 4318; `off` turns tracing off, leaving trace headers untouched), and the workload's names
 * for spans: `service.name` is `<canonical service>.<namespace>` as Istio names it. Null when off.
 */
export function tracingOptions(env: NodeJS.ProcessEnv, flags: TracingFlags, identity: SidecarIdentity): TracingOptions | null {
  const collectorSetting = pick(flags.traceCollector, '--trace-collector', env.TRELLIS_TRACE_COLLECTOR, 'TRELLIS_TRACE_COLLECTOR');
  if (collectorSetting && /^(off|none|disabled)$/i.test(collectorSetting.text)) return null;
  const collectorUrl = collectorSetting ? url(collectorSetting.text, collectorSetting.where) : `http://${hostOf(identity.controlPlane)}:${DEFAULT_COLLECTOR_PORT}/v1/traces`;
  const samplingSetting = pick(flags.traceSampling, '--trace-sampling', env.TRELLIS_TRACE_SAMPLING, 'TRELLIS_TRACE_SAMPLING');
  const samplingPercent = samplingSetting ? percent(samplingSetting.text, samplingSetting.where) : DEFAULT_TRACE_SAMPLING;
  const flush = env.TRELLIS_TRACE_FLUSH_MS;
  const flushIntervalMs = flush !== undefined && /^\d+$/.test(flush.trim()) && Number(flush) > 0 ? Number(flush) : undefined;
  const { labels, namespace } = identity;
  const canonical = labels['service.istio.io/canonical-name'] || labels['app.kubernetes.io/name'] || labels.app || identity.workloadName;
  const revision = labels['service.istio.io/canonical-revision'] || labels['app.kubernetes.io/version'] || labels.version || 'latest';
  return {
    samplingPercent,
    collectorUrl,
    serviceName: `${canonical}.${namespace}`,
    spanAttributes: {
      node_id: xdsNodeId(identity),
      'istio.canonical_service': canonical,
      'istio.canonical_revision': revision,
      'istio.namespace': namespace,
    },
    ...(flushIntervalMs !== undefined ? { flushIntervalMs } : {}),
  };
}

function pick(flag: string | undefined, flagName: string, envValue: string | undefined, envName: string): { text: string; where: string } | undefined {
  if (flag !== undefined && flag.trim() !== '') return { text: flag.trim(), where: flagName };
  if (envValue !== undefined && envValue.trim() !== '') return { text: envValue.trim(), where: envName };
  return undefined;
}

function percent(text: string, where: string): number {
  const n = Number(text.endsWith('%') ? text.slice(0, -1) : text);
  if (text === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new IdentityError(where, text, 'trace sampling is a percentage from 0 to 100');
  return n;
}

function url(text: string, where: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new IdentityError(where, text, 'the trace collector is an http:// URL (OTLP/HTTP, e.g. http://127.0.0.1:4318/v1/traces) or "off"');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new IdentityError(where, text, 'the trace collector URL must be http:// or https://');
  return u.href;
}

/** The host part of `host:port` / `[v6]:port`. */
function hostOf(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(0, hostPort.indexOf(']') + 1);
  const colon = hostPort.lastIndexOf(':');
  return colon < 0 ? hostPort : hostPort.slice(0, colon);
}
