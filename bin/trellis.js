#!/usr/bin/env node
// The `trellis` command. Runs the compiled CLI (npm ci builds it through the root `prepare` script).
import { setFlagsFromString } from 'node:v8';

// A sidecar runs beside every pod: keep V8's young generation at its initial 1 MB semi-spaces instead of
// letting it grow to 16 MB each. Scavenges get more frequent but stay as cheap (a proxy's live young objects
// are a few in-flight requests), and every sidecar is ~13 MB smaller. Set before the CLI loads anything.
if (process.argv[2] === 'proxy') setFlagsFromString('--semi-space-growth-factor=1');

const { main } = await import('../packages/cli/dist/main.js');
process.exitCode = await main(process.argv.slice(2));
