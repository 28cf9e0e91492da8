#!/usr/bin/env node
// Entry point of the `imageshare` command. The code base is TypeScript run through tsx's
// loader, so a fresh clone works with `npm ci` alone (no build step to forget).
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv.slice(2));
