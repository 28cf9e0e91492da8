#!/usr/bin/env node
// Entry point of the `imageshare` command. The code base is TypeScript; this bundles it with esbuild
// into dist/ (well under a second) and runs the plain JavaScript. Running through a TypeScript loader
// instead would cost the server a second V8 isolate for the loader hooks (about 50 MB more memory)
// and slower start-up. npm packages stay external (native modules such as better-sqlite3 included).
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { renameSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
