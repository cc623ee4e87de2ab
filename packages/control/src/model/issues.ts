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
  message: string;
}

/** `file.yaml#2 VirtualService/default/reviews spec.http[0].route[1].weight: weight must be 0..100` */
export function formatIssue(i: ConfigIssue): string {
  const where = [`${i.file}#${i.doc}`, i.object, i.path].filter(Boolean).join(' ');
  return `${i.severity}: ${where}: ${i.message}`;
}
