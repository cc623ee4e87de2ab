import * as protoLoader from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { PROTO_INCLUDE_DIRS } from './protos.js';
import type { AnyMessage } from './codec.js';

/** envoy.service.discovery.v3.DiscoveryRequest as @grpc/proto-loader hands it over (keepCase). */
export interface DiscoveryRequest {
  version_info: string;
  node?: Node | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code: number; message: string } | null;
}

/** envoy.service.discovery.v3.DiscoveryResponse as written to the stream. */
export interface DiscoveryResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
  control_plane?: { identifier: string };
}

/** envoy.config.core.v3.Node; metadata is a google.protobuf.Struct. */
export interface Node {
  id: string;
  cluster: string;
  metadata?: Struct | null;
  user_agent_name?: string;
}

/**
 * google.protobuf.Struct as protobufjs and @grpc/proto-loader load it. The well-known types come from
 * protobufjs' bundled descriptors, whose field names are camelCase even with keepCase: `stringValue`, not
 * `string_value` (a snake_case object encodes as an empty Value).
 */
export interface Struct {
  fields: Record<string, StructValue>;
}
export interface StructValue {
  kind?: string;
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: Struct;
  listValue?: { values: StructValue[] };
}

let cached: ServiceDefinition | undefined;
/** The gRPC service definition of AggregatedDiscoveryService, loaded from Envoy's ads.proto. */
export function adsServiceDefinition(): ServiceDefinition {
  if (!cached) {
    const pkg = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: PROTO_INCLUDE_DIRS,
    });
    cached = pkg['envoy.service.discovery.v3.AggregatedDiscoveryService'] as ServiceDefinition;
  }
  return cached;
}

export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** Converts a google.protobuf.Struct (as proto-loader decodes it) to plain JSON. */
export function structToJson(struct: Struct | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(struct?.fields ?? {})) out[k] = structValueToJson(v);
  return out;
}

function structValueToJson(v: StructValue): unknown {
  // proto-loader (oneofs: true) names the set member in `kind`; protobufjs' toObject leaves it out.
  const kind = v.kind ?? (['structValue', 'listValue', 'stringValue', 'numberValue', 'boolValue'] as const).find((k) => v[k] != null);
  switch (kind) {
    case 'structValue':
      return structToJson(v.structValue);
    case 'listValue':
      return (v.listValue?.values ?? []).map(structValueToJson);
    case 'stringValue':
      return v.stringValue;
    case 'numberValue':
      return v.numberValue;
    case 'boolValue':
      return v.boolValue;
    default:
      return null;
  }
}

/** Converts plain JSON to a google.protobuf.Struct for proto-loader (used by clients sending node metadata). */
export function jsonToStruct(obj: Record<string, unknown>): Struct {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = jsonToStructValue(v);
  return { fields };
}

function jsonToStructValue(v: unknown): StructValue {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToStructValue) } };
  return { structValue: jsonToStruct(v as Record<string, unknown>) };
}
