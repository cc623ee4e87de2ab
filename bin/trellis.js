#!/usr/bin/env node
// The `trellis` command. Runs the compiled CLI (npm ci builds it through the root `prepare` script).
import { main } from '../packages/cli/dist/main.js';

process.exitCode = await main(process.argv.slice(2));
