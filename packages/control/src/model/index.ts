/** The config model: typed objects, parsing and validation, loading, cross-object analysis. */
export * from './objects.js';
export type * from './istio-types.js';
export type * from './kube-types.js';
export { formatIssue, type ConfigIssue } from './issues.js';
export { MeshConfig } from './mesh-config.js';
export { parseConfigText, type ParseResult } from './parse.js';
export { loadConfigPaths, type LoadResult } from './load.js';
export { analyzeObjects, dedupeObjects, hostCandidates } from './analyze.js';
export { expandDelegates, mergeHTTPRoute, type ExpandedRoute, type DelegateProblem, type Expansion } from './delegation.js';
export { isExportedTo } from './visibility.js';
export { compileRe2, re2SyntaxError, type Re2Compiled } from '@trellis/envoy-api';
export { parseDuration, parseDurationNanos, durationToProto } from './duration.js';
export { KINDS, lookupKind, type KindDef } from './kinds.js';
