import { describe, expect, it } from 'vitest';
import { durationToProto, parseDuration } from '@trellis/control';

describe('parseDuration (Go time.ParseDuration syntax)', () => {
  it.each([
    ['1s', 1000],
    ['500ms', 500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['0.5s', 500],
    ['.5s', 500],
    ['1.s', 1000],
    ['1h30m', 5_400_000],
    ['1m30.5s', 90_500],
    ['1.5ms', 1.5],
    ['100us', 0.1],
    ['100µs', 0.1],
    ['100μs', 0.1],
    ['1000000ns', 1],
    ['0', 0],
    ['0s', 0],
    ['-1.5s', -1500],
    ['+2s', 2000],
  ])('%s = %f ms', (s, ms) => {
    expect(parseDuration(s)).toBeCloseTo(ms, 9);
  });

  it.each(['', '1', '10', 's', '.s', '1 s', '1sec', '1d', '1.2.3s', '-', '1s ', ' 1s', '1S', '9223372037s'])('rejects %j', (s) => {
    expect(parseDuration(s)).toBeUndefined();
  });
});

describe('durationToProto', () => {
  it.each([
    [1500, { seconds: 1, nanos: 500_000_000 }],
    [0.5, { seconds: 0, nanos: 500_000 }],
    [0, { seconds: 0, nanos: 0 }],
    [30_000, { seconds: 30, nanos: 0 }],
    [-1500, { seconds: -1, nanos: -500_000_000 }],
    [1001, { seconds: 1, nanos: 1_000_000 }],
  ])('%f ms = %o', (ms, proto) => {
    expect(durationToProto(ms)).toEqual(proto);
  });

  it('round-trips parsed durations', () => {
    expect(durationToProto(parseDuration('1m30.25s')!)).toEqual({ seconds: 90, nanos: 250_000_000 });
  });
});
