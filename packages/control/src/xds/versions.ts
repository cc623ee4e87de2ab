import { createHash, randomBytes } from 'node:crypto';

/** One packed resource, named, as the version is computed over it. */
export interface PackedResource {
  name: string;
  value: Uint8Array;
}

/**
 * version_info derived from content: the same set of resources (in any order) always gets the same
 * version, so a push that changes nothing for a proxy is recognised and not sent.
 */
export function contentVersion(resources: readonly PackedResource[]): string {
  const hash = createHash('sha256');
  const sorted = [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const r of sorted) {
    // Length-prefix both parts so no two different sets can hash the same byte stream.
    hash.update(`${Buffer.byteLength(r.name)}:${r.name}:${r.value.length}:`);
    hash.update(r.value);
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Nonces unique per response. The random prefix keeps them unique across control plane restarts, so a
 * proxy reconnecting with an old nonce can never accidentally match a new one.
 */
export class NonceSource {
  private readonly prefix = randomBytes(4).toString('hex');
  private seq = 0;

  next(): string {
    this.seq += 1;
    return `${this.prefix}-${this.seq}`;
  }
}
