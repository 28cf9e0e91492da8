#!/usr/bin/env node
// Entry point of the `imageshare` command. The code base is TypeScript; this bundles it with esbuild
// into dist/ (well under a second) and runs the plain JavaScript. Running through a TypeScript loader
// instead would cost the server a second V8 isolate for the loader hooks (about 50 MB more memory)
// and slower start-up. npm packages stay external (native modules such as better-sqlite3 included).
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { renameSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// V8 optimizes a function with TurboFan once it has run for its interrupt budget; raised from the
// default (132 KiB of bytecode) so that only code that stays hot is compiled. Measured on the C-STORE
// benchmark (2 vCPUs, a fresh server per study): the compiler threads used about 0.2 s of CPU per
// 400-instance study, competing with the request path, and a study took 810 instead of 970 ms
// (medians of 5 alternating runs; 820 ms at 300000, 770 ms at 1200000, about 750 ms with no TurboFan
// at all). Later studies are no slower, STOW-RS was unchanged, and hot code is still optimized, only
// later. Set before the bundle is loaded so that its functions get the budget; a flag given on the
// command line wins.
if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) setFlagsFromString('--interrupt-budget=600000');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'imageshare.mjs');
const tmp = `${outfile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
mkdirSync(dirname(outfile), { recursive: true });
await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outfile: tmp,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
renameSync(tmp, outfile); // atomic: concurrent invocations never see a half-written bundle
const { main } = await import(pathToFileURL(outfile).href);
await main(process.argv.slice(2));
