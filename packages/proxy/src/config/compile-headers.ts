import type { EnvoyJson } from '@trellis/envoy-api';
import type { AppendAction, HeaderMutations, HeaderToAdd } from '../router/header-mutations.js';
import { Where, enumName, list, obj, str, bool, wrappedBool } from './envoy-values.js';

const APPEND_ACTIONS: readonly AppendAction[] = [
  'APPEND_IF_EXISTS_OR_ADD',
  'ADD_IF_ABSENT',
  'OVERWRITE_IF_EXISTS_OR_ADD',
  'OVERWRITE_IF_EXISTS',
];

/**
 * One level's `<dir>_headers_to_add` / `<dir>_headers_to_remove` (dir: request or response); null when the
 * level edits nothing, so the hot path skips it.
 */
export function compileHeaderMutations(
  where: Where,
  o: EnvoyJson,
  dir: 'request' | 'response',
  field: string,
): HeaderMutations | null {
  const addField = `${dir}_headers_to_add`;
  const removeField = `${dir}_headers_to_remove`;
  const add = list(where, o[addField], `${field}${addField}`).map((h, i) => compileHeaderToAdd(where, h, `${field}${addField}[${i}]`));
  const remove = list(where, o[removeField], `${field}${removeField}`).map((n, i) => {
    const f = `${field}${removeField}[${i}]`;
    return checkMutableName(where, str(where, n, f) ?? '', f);
  });
  return add.length === 0 && remove.length === 0 ? null : { add, remove };
}

function compileHeaderToAdd(where: Where, v: unknown, field: string): HeaderToAdd {
  const o = obj(where, v, field) ?? where.reject(field, 'a header value option is required');
  const h = obj(where, o.header, `${field}.header`) ?? where.reject(`${field}.header`, 'a header is required');
  const key = checkMutableName(where, str(where, h.key, `${field}.header.key`) ?? '', `${field}.header.key`);
  const raw = str(where, h.raw_value, `${field}.header.raw_value`);
  const value =
    raw !== undefined && raw !== ''
      ? Buffer.from(raw, 'base64').toString('latin1')
      : literalHeaderValue(where, str(where, h.value, `${field}.header.value`) ?? '', `${field}.header.value`);
  // The deprecated `append` (default true) maps onto the two append actions it stood for.
  const append = wrappedBool(where, o.append, `${field}.append`);
  const action =
    o.append_action !== undefined
      ? enumName(where, o.append_action, `${field}.append_action`, APPEND_ACTIONS, 'APPEND_IF_EXISTS_OR_ADD')
      : append === false
        ? 'OVERWRITE_IF_EXISTS_OR_ADD'
        : 'APPEND_IF_EXISTS_OR_ADD';
  const keepEmpty = bool(where, o.keep_empty_value, `${field}.keep_empty_value`) ?? false;
  return { key, value, action, keepEmpty };
}

/** Envoy refuses edits of pseudo-headers and Host through header mutation lists. */
function checkMutableName(where: Where, name: string, field: string): string {
  const lower = name.toLowerCase();
  if (lower === '') where.reject(field, 'a header name is required');
  if (lower.startsWith(':') || lower === 'host') where.reject(field, `${name}: ":-prefixed or host headers may not be modified"`);
  return lower;
}

/**
 * Header values go through Envoy's formatter: `%%` is a literal '%', `%COMMAND%` is substituted. Trellis
 * doesn't run formatter commands, so a value that uses one is refused rather than sent verbatim.
 */
function literalHeaderValue(where: Where, value: string, field: string): string {
  if (/[\r\n\0]/.test(value)) where.reject(field, 'a header value must not contain CR, LF or NUL');
  if (value.indexOf('%') < 0) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '%') {
      out += c;
    } else if (value[i + 1] === '%') {
      out += '%';
      i++;
    } else {
      where.reject(field, `header value formatter commands (${JSON.stringify(value)}) are not supported; write %% for a literal %`);
    }
  }
  return out;
}
