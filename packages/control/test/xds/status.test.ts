import { describe, expect, it } from 'vitest';
import { XdsServer } from '../../src/xds/server.js';
import { contentVersion, NonceSource } from '../../src/xds/versions.js';
import { requestedNames, sameSubscription } from '../../src/xds/watched-resource.js';

describe('syncState', () => {
  const nack = { version: 'v2', nonce: 'n2', message: 'bad', at: '2024-01-01T00:00:00.000Z' };
  it('is NOT SENT before anything was sent', () => {
    expect(XdsServer.syncState({})).toBe('NOT SENT');
  });
  it('is SYNCED when the last sent nonce was ACKed', () => {
    expect(XdsServer.syncState({ sentNonce: 'n2', ackedNonce: 'n2' })).toBe('SYNCED');
  });
  it('is STALE while the last response is unanswered', () => {
    expect(XdsServer.syncState({ sentNonce: 'n2', ackedNonce: 'n1' })).toBe('STALE');
    expect(XdsServer.syncState({ sentNonce: 'n1' })).toBe('STALE');
  });
  it('is STALE when the last response was NACKed', () => {
    expect(XdsServer.syncState({ sentNonce: 'n2', ackedNonce: 'n1', lastNack: nack })).toBe('STALE');
  });
});

describe('contentVersion', () => {
  const a = { name: 'a', value: new Uint8Array([1, 2]) };
  const b = { name: 'b', value: new Uint8Array([3]) };
  it('ignores order and changes with content or names', () => {
    expect(contentVersion([a, b])).toBe(contentVersion([b, a]));
    expect(contentVersion([a, b])).not.toBe(contentVersion([a, { ...b, value: new Uint8Array([4]) }]));
    expect(contentVersion([a])).not.toBe(contentVersion([{ ...a, name: 'c' }]));
    // Name/value boundaries are unambiguous.
    expect(contentVersion([{ name: 'ab', value: new Uint8Array([]) }])).not.toBe(
      contentVersion([{ name: 'a', value: new TextEncoder().encode('b') }]),
    );
  });
  it('gives the empty set its own version', () => {
    expect(contentVersion([])).toMatch(/^[0-9a-f]{16}$/);
    expect(contentVersion([])).not.toBe(contentVersion([a]));
  });
});

describe('nonces and subscriptions', () => {
  it('never repeats a nonce, within or across sources', () => {
    const s1 = new NonceSource();
    const s2 = new NonceSource();
    const all = [s1.next(), s1.next(), s2.next(), s2.next()];
    expect(new Set(all).size).toBe(4);
  });
  it('reads wildcard and named subscriptions per type', () => {
    expect(requestedNames('listener', [])).toBeNull();
    expect(requestedNames('cluster', ['*', 'x'])).toBeNull();
    expect(requestedNames('cluster', ['b', 'a', 'b'])).toEqual(['a', 'b']);
    expect(requestedNames('route', [])).toEqual([]);
    expect(requestedNames('endpoint', ['*'])).toEqual(['*']);
    expect(sameSubscription(null, null)).toBe(true);
    expect(sameSubscription(null, [])).toBe(false);
    expect(sameSubscription(['a'], ['a'])).toBe(true);
  });
});
