import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs/light.js';

/** Made by bundle-protos.ts from Envoy's protos (proto-sources.ts); a test keeps it in step with them. */
export const BUNDLE_URL = new URL('../envoy-protos.json', import.meta.url);

let cached: protobuf.Root | undefined;

/** The protobufjs root of every Envoy type Trellis uses, loaded once per process from the bundle. */
export function envoyRoot(): protobuf.Root {
  if (cached === undefined) {
    cached = protobuf.Root.fromJSON(JSON.parse(readFileSync(BUNDLE_URL, 'utf8')) as protobuf.INamespace);
    cached.resolveAll();
  }
  return cached;
}
