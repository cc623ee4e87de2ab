/**
 * A problem found in user config. Every one names where it is — file, document, object, field — so a
 * user can go straight to it.
 */
export interface ConfigIssue {
  severity: 'error' | 'warning';
  file: string;
  /** 0-based index of the YAML document in the file. */
  doc: number;
  /** `Kind/namespace/name`, when the document got far enough to have one. */
  object?: string;
  /** Field path in the document, e.g. `spec.http[0].route[1].weight`. */
  path?: string;
  /** 1-based line in the file of the field (or of the nearest enclosing one), when known. */
  line?: number;
  message: string;
}

/**
 * `error: file.yaml#2 VirtualService/default/reviews spec.http[0].route[1].weight: weight -1 < 0`, with the
 * line after the file when known (`file.yaml:14#2`), the form editors and terminals turn into links.
 */
export function formatIssue(i: ConfigIssue): string {
  const file = i.line === undefined ? i.file : `${i.file}:${i.line}`;
  const where = [`${file}#${i.doc}`, i.object, i.path].filter(Boolean).join(' ');
  return `${i.severity}: ${where}: ${i.message}`;
}
