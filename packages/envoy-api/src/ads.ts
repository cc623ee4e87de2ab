import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { envoyRoot } from './protos.js';
import type { AnyMessage } from './codec.js';

/** envoy.service.discovery.v3.DiscoveryRequest as the ADS service hands it over (keepCase, defaults filled). */
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

/** Message <-> object conversion as @grpc/proto-loader does it, so handlers see the same shapes. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

function codec(type: protobuf.Type) {
  return {
    serialize: (obj: object) => Buffer.from(type.encode(type.fromObject(obj)).finish()),
    deserialize: (bytes: Buffer) => type.toObject(type.decode(bytes), TO_OBJECT),
  };
}

let cached: ServiceDefinition | undefined;
/**
 * The gRPC service definition of AggregatedDiscoveryService (state of the world), built on the one protobufjs
 * root that holds Envoy's protos: loading ads.proto a second time through proto-loader would double the
 * largest part of a sidecar's memory.
 */
export function adsServiceDefinition(): ServiceDefinition {
  if (!cached) {
    const request = codec(envoyRoot().lookupType('envoy.service.discovery.v3.DiscoveryRequest'));
    const response = codec(envoyRoot().lookupType('envoy.service.discovery.v3.DiscoveryResponse'));
    cached = {
      StreamAggregatedResources: {
        path: ADS_METHOD,
        requestStream: true,
        responseStream: true,
        originalName: 'streamAggregatedResources',
        requestSerialize: request.serialize,
        requestDeserialize: request.deserialize,
        responseSerialize: response.serialize,
        responseDeserialize: response.deserialize,
      },
    } as ServiceDefinition;
  }
  return cached;
}

export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** Converts a google.protobuf.Struct (as the ADS service decodes it) to plain JSON. */
export function structToJson(struct: Struct | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(struct?.fields ?? {})) out[k] = structValueToJson(v);
  return out;
}

function structValueToJson(v: StructValue): unknown {
  // With oneofs: true the set member is named in `kind`; a bare toObject leaves it out.
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

/** Converts plain JSON to a google.protobuf.Struct (clients sending node metadata; endpoint metadata). */
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
