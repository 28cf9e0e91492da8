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
// default (132 KiB of bytecode) so that only code that stays hot is compiled. Measured on 2 vCPUs with
// a fresh server (medians of 6 alternating runs): the compiler threads used about 0.2 s of CPU per
// 400-slice C-STORE study, and the study took 889 instead of 951 ms at 300000 (about 835 ms at
// 600000); a 210 MB STOW-RS upload took 750 instead of 682 ms at 300000 (800 at 600000), as its
// parsing code runs longer before it is optimized. 300000 is the compromise. Set before the bundle is
// loaded so that its functions get the budget; a flag given on the command line wins.
if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) setFlagsFromString('--interrupt-budget=300000');

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
