#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/src/cli (compiled from src/cli by `npm install`).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
