import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM certificate and its key. */
export interface KeyPair {
  cert: string;
  key: string;
}

/**
 * Test certificates made with the `openssl` CLI (P-256 keys: fast to generate): one CA, and leaves it signs
 * for the given DNS names (the first is the CN).
 */
export class TestPki {
  private readonly dir = mkdtempSync(join(tmpdir(), 'trellis-pki-'));
  readonly ca: KeyPair;
  private serial = 1;

  constructor() {
    this.openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-keyout', this.path('ca.key'), '-out', this.path('ca.crt'), '-subj', '/CN=trellis-test-ca']);
    this.ca = { cert: this.read('ca.crt'), key: this.read('ca.key') };
  }

  /** A leaf certificate for `names` (server or client), signed by the CA. */
  issue(...names: string[]): KeyPair {
    const n = this.serial++;
    const base = `leaf${n}`;
    writeFileSync(this.path(`${base}.ext`), `subjectAltName=${names.map((d) => `DNS:${d}`).join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    this.openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', this.path(`${base}.key`), '-out', this.path(`${base}.csr`), '-subj', `/CN=${names[0]}`]);
    this.openssl(['x509', '-req', '-in', this.path(`${base}.csr`), '-CA', this.path('ca.crt'), '-CAkey', this.path('ca.key'),
      '-set_serial', String(n + 1000), '-days', '2', '-out', this.path(`${base}.crt`), '-extfile', this.path(`${base}.ext`)]);
    return { cert: this.read(`${base}.crt`), key: this.read(`${base}.key`) };
  }

  /** Writes a pair to files (for `serverCertificate`/`privateKey` or `filename` data sources). */
  files(pair: KeyPair, name: string): { cert: string; key: string } {
    const cert = this.path(`${name}.crt`);
    const key = this.path(`${name}.key`);
    writeFileSync(cert, pair.cert);
    writeFileSync(key, pair.key);
    return { cert, key };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private path(f: string): string {
    return join(this.dir, f);
  }

  private read(f: string): string {
    return readFileSync(this.path(f), 'utf8');
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { stdio: 'pipe' });
  }
}
