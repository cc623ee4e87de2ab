import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';
import { loadRootFromProtos } from './proto-sources.js';
import { BUNDLE_URL } from './protos.js';

type Json = { [key: string]: unknown };

/**
 * The JSON form of every type PROTO_FILES define or import (an Any may carry any of them, e.g. a route's
 * FilterConfig). Comments and custom options (validation rules, annotations) are left out: nothing at run
 * time reads them.
 */
export function bundleProtos(root: protobuf.Root = loadRootFromProtos()): Json {
  return stripOptions(root.toJSON()) as Json;
}

function stripOptions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripOptions);
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, val] of Object.entries(v as Json)) {
    if (k === 'comment') continue;
    if (k === 'options') {
      const plain = Object.entries(val as Json).filter(([name]) => !name.startsWith('('));
      if (plain.length > 0) out.options = Object.fromEntries(plain);
      continue;
    }
    out[k] = stripOptions(val);
  }
  return out;
}

/** `npm run protos`: rewrites envoy-protos.json after a change to PROTO_FILES or the @grpc/grpc-js-xds version. */
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(BUNDLE_URL, `${JSON.stringify(bundleProtos())}\n`);
  process.stdout.write(`wrote ${BUNDLE_URL.pathname}\n`);
}
