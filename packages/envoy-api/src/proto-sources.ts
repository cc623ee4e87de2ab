import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import protobuf from 'protobufjs';

/**
 * Envoy's own protos, as @grpc/grpc-js-xds ships them under deps/: the source of truth for the wire format.
 * Parsing them takes ~150 ms and a few MB per process, so processes load the bundle made from them
 * (envoy-protos.json, see bundle-protos.ts); this module is what the bundle is made from.
 */
const xdsPackageDir = dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json'));
export const PROTO_INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) =>
  join(xdsPackageDir, 'deps', d),
);

/** Every message type Trellis encodes, decodes or finds inside an Any. */
export const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/maglev/v3/maglev.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/random/v3/random.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
];

function resolveImport(_origin: string, target: string): string {
  for (const dir of PROTO_INCLUDE_DIRS) {
    const candidate = join(dir, target);
    if (existsSync(candidate)) return candidate;
  }
  return target;
}

/**
 * Envoy's protos import google/protobuf/descriptor.proto (for their annotations); protobufjs ships it as JSON
 * but registers only the other well-known types by itself.
 */
function registerDescriptorProto(): void {
  const descriptor = createRequire(import.meta.url)('protobufjs/google/protobuf/descriptor.json');
  protobuf.common('descriptor', descriptor.nested.google.nested.protobuf.nested);
}

/** Parses PROTO_FILES and everything they import. */
export function loadRootFromProtos(): protobuf.Root {
  registerDescriptorProto();
  const root = new protobuf.Root();
  root.resolvePath = resolveImport;
  // keepCase: field names stay as Envoy writes them (snake_case), so objects read like Envoy's JSON.
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  return root;
}
