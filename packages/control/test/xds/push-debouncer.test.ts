import { describe, expect, it } from 'vitest';
import { PushDebouncer } from '../../src/xds/push-debouncer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PushDebouncer', () => {
  it('runs once per quiet window, with every reason', async () => {
    const runs: string[][] = [];
    const d = new PushDebouncer(50, 10_000, (reasons) => runs.push(reasons));
    d.trigger('a');
    await sleep(20);
    d.trigger('b');
    expect(runs).toEqual([]);
    await sleep(120);
    expect(runs).toEqual([['a', 'b']]);
    expect(d.pending).toBe(false);
  });

  it('does not let a steady stream of triggers hold a push back past maxMs', async () => {
    const runs: number[] = [];
    const started = Date.now();
    const d = new PushDebouncer(100, 150, () => runs.push(Date.now() - started));
    for (let i = 0; i < 20; i++) {
      d.trigger('tick');
      await sleep(20);
    }
    d.cancel();
    // Without the cap the 100 ms quiet window would never elapse in these 400 ms of triggers.
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs[0]).toBeLessThan(350);
  });

  it('flushNow runs at once with pending reasons and clears the timer', async () => {
    const runs: string[][] = [];
    const d = new PushDebouncer(30, 1000, (reasons) => runs.push(reasons));
    d.trigger('config');
    expect(d.flushNow('manual')).toBe(1);
    expect(runs).toEqual([['config', 'manual']]);
    await sleep(80);
    expect(runs).toHaveLength(1);
  });
});
