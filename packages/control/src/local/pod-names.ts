/**
 * Pod names as a Deployment's pods get them: `<deployment>-<template hash>-<suffix>`, from Kubernetes'
 * "safe" alphabet (no vowels, no 0/1/3, so no words and no look-alikes).
 */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits (Kubernetes hashes pod templates with FNV-32a too). */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** `n` safe characters from a 32-bit value. */
export function safeEncode(value: number, n = 5): string {
  let v = value >>> 0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ALPHABET[v % ALPHABET.length];
    v = Math.floor(v / ALPHABET.length);
  }
  return out;
}

/** JSON with object keys sorted, so equal objects hash equal whatever order their YAML had. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The `pod-template-hash` of a Deployment's pod template: changes exactly when the template does. */
export function templateHash(template: unknown): string {
  return safeEncode(fnv32a(stableJson(template)));
}

/**
 * The name of a Deployment's pod: index-derived rather than random, so the same config gives the same names on
 * every run; `salt` picks another when the name is still held by a terminating pod.
 */
export function podName(deployment: string, hash: string, key: string, index: number, salt = 0): string {
  return `${deployment}-${hash}-${safeEncode(fnv32a(`${key}#${index}#${salt}`))}`;
}
