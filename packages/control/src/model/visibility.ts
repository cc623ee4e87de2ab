/**
 * `exportTo` as Istio reads it: absent (or empty) or `*` = every namespace, `.` = the object's own
 * namespace, `~` = none, anything else a namespace name.
 */
export function isExportedTo(exportTo: readonly (string | null)[] | undefined, ownNamespace: string, namespace: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && ownNamespace === namespace));
}
