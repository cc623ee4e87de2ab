import type { EnvoyJson } from '@trellis/envoy-api';
import { Where, anyTypeName, list, num, obj, rejectNonEmpty, str, wrappedBool, wrappedNum } from './envoy-values.js';

/** A span tag from the HCM's `tracing.custom_tags`: a fixed value, an environment variable or a request header. */
export type CustomTag =
  | { readonly tag: string; readonly kind: 'literal'; readonly value: string }
  | { readonly tag: string; readonly kind: 'request_header'; readonly name: string; readonly defaultValue: string };

/** The HCM's `tracing` block, as far as the sidecar honours it. */
export interface HcmTracingConfig {
  /** `random_sampling` in percent (0–100); null when unset, so the sidecar's --trace-sampling applies. */
  readonly randomSampling: number | null;
  /** `max_path_tag_length` (Envoy's default 256): url.path is cut to this. */
  readonly maxPathTagLength: number;
  readonly customTags: readonly CustomTag[];
  /** The OpenTelemetry provider's `service_name`; null keeps the sidecar's canonical service name. */
  readonly serviceName: string | null;
}

const OTEL_PROVIDER = 'envoy.config.trace.v3.OpenTelemetryConfig';

/**
 * Compiles `HttpConnectionManager.tracing`. Sampling rates that would change nothing (client and overall
 * sampling at 100%) are accepted; anything the sidecar can't honour is refused rather than ignored.
 */
export function compileTracing(where: Where, v: unknown, field: string): HcmTracingConfig | null {
  const t = obj(where, v, field);
  if (!t) return null;
  rejectNonEmpty(where, t, `${field}.`, {
    verbose: 'verbose tracing (log events per filter) is not supported',
    operation_name: 'operation_name is deprecated: the traffic direction comes from the listener',
  });
  if (wrappedBool(where, t.spawn_upstream_span, `${field}.spawn_upstream_span`)) where.reject(`${field}.spawn_upstream_span`, 'upstream spans are not supported: the sidecar emits one span per hop');
  for (const f of ['client_sampling', 'overall_sampling'] as const) {
    const p = percent(where, t[f], `${field}.${f}`);
    if (p !== null && p !== 100) where.reject(`${field}.${f}`, `only 100 is supported (x-client-trace-id and overall sampling are not)`);
  }
  const provider = obj(where, t.provider, `${field}.provider`);
  return {
    randomSampling: percent(where, t.random_sampling, `${field}.random_sampling`),
    maxPathTagLength: wrappedNum(where, t.max_path_tag_length, `${field}.max_path_tag_length`) ?? 256,
    customTags: list(where, t.custom_tags, `${field}.custom_tags`).map((c, i) => customTag(where, c, `${field}.custom_tags[${i}]`)),
    serviceName: provider ? providerServiceName(where, provider, `${field}.provider`) : null,
  };
}

/** envoy.type.v3.Percent: `{ value }`, 0–100. */
function percent(where: Where, v: unknown, field: string): number | null {
  const p = obj(where, v, field);
  if (!p) return null;
  const value = num(where, p.value, `${field}.value`) ?? 0;
  if (value < 0 || value > 100) where.reject(`${field}.value`, 'a percentage must be within 0 and 100');
  return value;
}

function customTag(where: Where, v: unknown, field: string): CustomTag {
  const c = obj(where, v, field)!;
  const tag = str(where, c.tag, `${field}.tag`) ?? '';
  if (tag === '') where.reject(`${field}.tag`, 'a custom tag needs a name');
  const literal = obj(where, c.literal, `${field}.literal`);
  if (literal) return { tag, kind: 'literal', value: str(where, literal.value, `${field}.literal.value`) ?? '' };
  // An environment tag is read once: it cannot change under a running process.
  const env = obj(where, c.environment, `${field}.environment`);
  if (env) {
    const name = str(where, env.name, `${field}.environment.name`) ?? '';
    return { tag, kind: 'literal', value: process.env[name] ?? str(where, env.default_value, `${field}.environment.default_value`) ?? '' };
  }
  const header = obj(where, c.request_header, `${field}.request_header`);
  if (header) {
    const name = (str(where, header.name, `${field}.request_header.name`) ?? '').toLowerCase();
    return { tag, kind: 'request_header', name, defaultValue: str(where, header.default_value, `${field}.request_header.default_value`) ?? '' };
  }
  return where.reject(field, 'only literal, environment and request_header custom tags are supported');
}

/**
 * The provider: OpenTelemetry only, and only its service name. Spans go to the sidecar's collector
 * (--trace-collector), so a provider naming its own destination is refused instead of being ignored.
 */
function providerServiceName(where: Where, p: EnvoyJson, field: string): string | null {
  const typed = obj(where, p.typed_config, `${field}.typed_config`);
  const type = anyTypeName(typed);
  if (!typed || type !== OTEL_PROVIDER) where.reject(field, `tracing provider ${type ?? str(where, p.name, `${field}.name`) ?? '?'} is not supported (only ${OTEL_PROVIDER})`);
  rejectNonEmpty(where, typed, `${field}.typed_config.`, {
    grpc_service: 'spans go to the sidecar\'s --trace-collector (OTLP/HTTP); a provider destination is not supported',
    http_service: 'spans go to the sidecar\'s --trace-collector (OTLP/HTTP); a provider destination is not supported',
    resource_detectors: 'resource detectors are not supported',
    sampler: 'custom samplers are not supported (use random_sampling)',
  });
  return str(where, typed.service_name, `${field}.typed_config.service_name`) || null;
}
