// Helpers for tests that need a system package (DCMTK, Orthanc, Chromium, PostgreSQL) or ../shared.
// Outside CI a missing tool skips the test with a clear reason; in CI (CI=true) it fails,
// because CI installs every tool and a skipped interoperability test hides a broken run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDir = resolve(projectRoot, '..', 'shared');
export const corpusDir = join(sharedDir, 'dicom-corpus');
export const samplesDir = join(sharedDir, 'ihe-samples');
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

export function hasCommand(cmd: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Returns `false` when everything is there, or a skip reason string for node:test's `skip` option.
 * In CI a missing requirement throws, so the test fails instead of being skipped.
 */
export function requireTools(opts: { commands?: string[]; shared?: boolean; paths?: string[] }): false | string {
  const missing: string[] = [];
  for (const c of opts.commands ?? []) if (!hasCommand(c)) missing.push(`command '${c}' (apt-get install dcmtk orthanc orthanc-dicomweb ...)`);
  if (opts.shared && !existsSync(sharedDir)) missing.push(`../shared (expected at ${sharedDir})`);
  for (const p of opts.paths ?? []) if (!existsSync(p)) missing.push(`file ${p}`);
  if (missing.length === 0) return false;
  const reason = `missing: ${missing.join(', ')}`;
  if (inCI) throw new Error(`CI requires every interoperability test to run; ${reason}`);
  return reason;
}
