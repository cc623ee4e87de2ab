/** A header map being built for the next hop: lower-case names, repeated headers as arrays. */
export type HeaderMap = Record<string, string | string[]>;

/** Envoy's HeaderValueOption.HeaderAppendAction. */
export type AppendAction = 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';

export interface HeaderToAdd {
  /** Lower-case. */
  readonly key: string;
  readonly value: string;
  readonly action: AppendAction;
  /** Envoy skips adding an empty value unless asked to keep it. */
  readonly keepEmpty: boolean;
}

/** One level's `*_headers_to_add` / `*_headers_to_remove` (weighted cluster, route, virtual host, route config). */
export interface HeaderMutations {
  readonly remove: readonly string[];
  readonly add: readonly HeaderToAdd[];
}

/**
 * Applies levels in order, each removing before adding (Envoy's HeaderParser order). Levels run from the most
 * specific (weighted cluster) to the least (route configuration), so on an overwrite the outer level wins,
 * as in Envoy without `most_specific_header_mutations_wins`.
 */
export function applyHeaderMutations(headers: HeaderMap, levels: readonly HeaderMutations[]): void {
  for (const level of levels) {
    for (const name of level.remove) if (headers[name] !== undefined) delete headers[name];
    for (const h of level.add) addHeader(headers, h);
  }
}

function addHeader(headers: HeaderMap, h: HeaderToAdd): void {
  if (h.value === '' && !h.keepEmpty) return;
  const existing = headers[h.key];
  switch (h.action) {
    case 'APPEND_IF_EXISTS_OR_ADD':
      if (existing === undefined) headers[h.key] = h.value;
      else headers[h.key] = typeof existing === 'string' ? [existing, h.value] : [...existing, h.value];
      return;
    case 'ADD_IF_ABSENT':
      if (existing === undefined) headers[h.key] = h.value;
      return;
    case 'OVERWRITE_IF_EXISTS_OR_ADD':
      headers[h.key] = h.value;
      return;
    case 'OVERWRITE_IF_EXISTS':
      if (existing !== undefined) headers[h.key] = h.value;
      return;
  }
}
