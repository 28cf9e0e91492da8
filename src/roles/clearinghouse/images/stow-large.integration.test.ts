// The 400-slice CT study (210 MB) in one STOW-RS request sent by `curl -T` with Expect: 100-continue:
// every instance stored, and the process's memory stays bounded while the upload streams through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from '../../../../test-support/system-tools.ts';
import { ensureBenchStudy, runStowBenchOnce, writeStowBody } from './stow-bench.ts';

const skip = requireTools({ shared: true, commands: ['curl', 'python3'] });

test('400-slice STOW-RS with Expect: 100-continue: all stored, peak RSS bounded', { skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stow-large-'));
  try {
    const files = ensureBenchStudy();
    const bodyPath = join(dir, 'body.multipart');
    const bytes = await writeStowBody(files, bodyPath);
    const run = await runStowBenchOnce(bodyPath, { expectContinue: true });
    console.log(`400-slice STOW: ${(bytes / 1e6).toFixed(1)} MB in ${run.seconds.toFixed(2)} s = ${run.megabytesPerSecond.toFixed(1)} MB/s; RSS ${run.rssBeforeMiB.toFixed(0)} MiB before, peak ${run.peakRssMiB.toFixed(0)} MiB`);
    assert.equal(run.httpStatus, 200);
    assert.equal(run.referenced, files.length);
    assert.equal(run.failed, 0);
    // The upload must not sit in memory: growth far below its 210 MB (target: ≤ 200 MB in all).
    assert.ok(run.peakRssMiB - run.rssBeforeMiB < 100, `peak RSS grew by ${(run.peakRssMiB - run.rssBeforeMiB).toFixed(0)} MiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
