import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/xds/backoff.js';

describe('Backoff', () => {
  it('grows by 1.6x from initialMs up to maxMs, and starts over after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0.5); // 0.5 = no jitter
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 160, 256, 410, 655, 1000]);
    expect(b.next()).toBe(1000);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('jitters by ±20% and never exceeds maxMs', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0);
    const high = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0.999999);
    expect(low.next()).toBe(80);
    expect(high.next()).toBe(120);
    for (let i = 0; i < 10; i++) expect(high.next()).toBeLessThanOrEqual(1000);
  });

  it('rejects nonsense settings', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(/0 < initialMs <= maxMs/);
    expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow(/0 < initialMs <= maxMs/);
  });
});
