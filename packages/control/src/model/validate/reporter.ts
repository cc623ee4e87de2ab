import { formatPath, type FieldPath } from './path.js';

export interface Finding {
  severity: 'error' | 'warning';
  path: FieldPath;
  message: string;
}

/**
 * Collects the findings of validating one object. Shape errors (wrong type) come first from the field
 * walker; a rule that then finds the same field missing or empty stays quiet, so a user sees one reason.
 */
export class Reporter {
  readonly findings: Finding[] = [];
  private readonly shapeErrors = new Set<string>();

  error(path: FieldPath, message: string): void {
    if (this.shapeErrors.has(formatPath(path))) return;
    this.findings.push({ severity: 'error', path, message });
  }

  warn(path: FieldPath, message: string): void {
    this.findings.push({ severity: 'warning', path, message });
  }

  /** A value of the wrong type (or null where one is required); it is left out of the typed object. */
  shapeError(path: FieldPath, message: string): void {
    this.shapeErrors.add(formatPath(path));
    this.findings.push({ severity: 'error', path, message });
  }

  get hasErrors(): boolean {
    return this.findings.some((f) => f.severity === 'error');
  }
}
