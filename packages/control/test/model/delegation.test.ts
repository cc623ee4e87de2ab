import { describe, expect, it } from 'vitest';
import {
  matchesConflict,
  mergeHTTPRoute,
  mergeMatchRequest,
  mergeMatchRequests,
  stringMatchConflict,
} from '../../src/model/delegation.js';

// Istio's delegate merge rules (pilot/pkg/model/virtualservice.go), case by case.

describe('stringMatchConflict: a delegate condition must narrow the root one', () => {
  it.each([
    [undefined, { exact: '/a' }, false],
    [{ prefix: '/a' }, undefined, false],
    [{ prefix: '/a' }, { prefix: '/a/b' }, false],
    [{ prefix: '/a/b' }, { prefix: '/a' }, true],
    [{ prefix: '/a' }, { exact: '/a/x' }, false],
    [{ prefix: '/a' }, { exact: '/b' }, true],
    [{ exact: '/a' }, { exact: '/a' }, false],
    [{ exact: '/a' }, { exact: '/b' }, true],
    [{ exact: '/a' }, { prefix: '/a' }, true],
    [{ regex: '/a.*' }, { exact: '/ab' }, true],
    [{ prefix: '/a' }, { regex: '/a.*' }, true],
    [{ regex: '/a.*' }, { regex: '/a.*' }, true],
    // Presence-only conditions narrow nothing Istio can prove.
    [{}, { exact: 'x' }, true],
    [{ prefix: 'a' }, {}, true],
  ] as const)('root %j, delegate %j -> conflict %s', (root, leaf, conflict) => {
    expect(stringMatchConflict(root, leaf)).toBe(conflict);
  });
});

describe('matchesConflict', () => {
  it('compares every condition the delegate sets with the root one of the same name', () => {
    expect(matchesConflict({ headers: { a: { exact: '1' } } }, { headers: { a: { exact: '1' }, b: { exact: '2' } } })).toBe(false);
    expect(matchesConflict({ headers: { a: { exact: '1' } } }, { headers: { a: { exact: '2' } } })).toBe(true);
    expect(matchesConflict({ withoutHeaders: { a: { prefix: 'x' } } }, { withoutHeaders: { a: { prefix: 'y' } } })).toBe(true);
    expect(matchesConflict({ queryParams: { q: { exact: '1' } } }, { queryParams: { q: { exact: '1' } } })).toBe(false);
    expect(matchesConflict({ method: { exact: 'GET' } }, { method: { exact: 'POST' } })).toBe(true);
  });

  it('ignoreUriCase must agree; ports may not differ; source labels may not contradict', () => {
    expect(matchesConflict({ ignoreUriCase: true }, {})).toBe(true);
    expect(matchesConflict({ ignoreUriCase: true }, { ignoreUriCase: true })).toBe(false);
    expect(matchesConflict({ port: 80 }, { port: 8080 })).toBe(true);
    expect(matchesConflict({ port: 80 }, {})).toBe(false);
    expect(matchesConflict({ sourceLabels: { app: 'a' } }, { sourceLabels: { app: 'b' } })).toBe(true);
    expect(matchesConflict({ sourceLabels: { app: 'a' } }, { sourceLabels: { version: 'v1' } })).toBe(false);
  });

  it('a root source namespace must be repeated by the delegate; delegate gateways must be among the root ones', () => {
    expect(matchesConflict({ sourceNamespace: 'a' }, { sourceNamespace: 'a' })).toBe(false);
    expect(matchesConflict({ sourceNamespace: 'a' }, {})).toBe(true);
    expect(matchesConflict({}, { sourceNamespace: 'b' })).toBe(false);
    expect(matchesConflict({ gateways: ['g1', 'g2'] }, { gateways: ['g2'] })).toBe(false);
    expect(matchesConflict({ gateways: ['g1'] }, { gateways: ['g2'] })).toBe(true);
  });
});

describe('merging', () => {
  it('a merged match: the delegate wins where both set a condition, maps are unioned, names joined with "-"', () => {
    expect(mergeMatchRequest(
      { name: 'r', uri: { prefix: '/a' }, method: { exact: 'GET' }, headers: { x: { exact: '1' } }, port: 80, sourceLabels: { app: 'a' }, gateways: ['mesh'] },
      { name: 'd', uri: { prefix: '/a/b' }, headers: { y: { exact: '2' } }, sourceLabels: { v: '1' } },
    )).toEqual({
      name: 'r-d', uri: { prefix: '/a/b' }, method: { exact: 'GET' }, headers: { x: { exact: '1' }, y: { exact: '2' } }, port: 80,
      sourceLabels: { app: 'a', v: '1' }, gateways: ['mesh'],
    });
  });

  it('no matches on either side: the other side as is', () => {
    expect(mergeMatchRequests([], [{ uri: { prefix: '/x' } }])).toEqual([{ uri: { prefix: '/x' } }]);
    expect(mergeMatchRequests([{ uri: { prefix: '/x' } }], [])).toEqual([{ uri: { prefix: '/x' } }]);
    expect(mergeMatchRequests([{ uri: { prefix: '/x' } }], [{ uri: { prefix: '/y' } }])).toBeUndefined();
  });

  it('a merged route inherits what it leaves out, keeps what it sets, and never the root delegate', () => {
    const root = { name: 'root', delegate: { name: 'd' }, timeout: '3s', retries: { attempts: 1 }, headers: { request: { set: { a: '1' } } }, mirrors: [{ destination: { host: 'm' } }] };
    const merged = mergeHTTPRoute(root, { name: 'child', timeout: '1s', route: [{ destination: { host: 'x' } }] });
    expect(merged).toEqual({
      name: 'root-child', timeout: '1s', retries: { attempts: 1 }, headers: { request: { set: { a: '1' } } }, mirrors: [{ destination: { host: 'm' } }],
      route: [{ destination: { host: 'x' } }],
    });
    expect(mergeHTTPRoute({ match: [{ uri: { exact: '/a' } }], delegate: { name: 'd' } }, { match: [{ uri: { exact: '/b' } }], route: [] })).toBeUndefined();
  });
});
