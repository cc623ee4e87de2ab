export { envoyRoot } from './protos.js';
export * from './type-urls.js';
export { encodeAny, decodeAny, decodeMessage, type EnvoyJson, type AnyMessage } from './codec.js';
export * from './ads.js';
export { compileRe2, compileRe2Search, re2SyntaxError, type Re2Compiled } from './re2.js';
