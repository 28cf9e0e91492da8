// End to end, as in the issue: a modality sends studies to the edge (DCMTK storescu), staff release
// them with the CLI (`imageshare edge send`), and a Document Consumer that knows only the date of
// birth and the access code finds the exam and retrieves the manifest, the report (none yet) and every
// image over HTTPS with a client certificate — each dataset byte-identical to what was transmitted.
// Optionally (IMAGESHARE_SUBMISSION_BENCH=1) it also measures a 400-slice study: time from release to
// registered manifest, and the server's peak RSS during the submission.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startStorescp, storescu } from '../../../../test-support/dcmtk.ts';
import { corpusDir, requireTools, sharedDir } from '../../../../test-support/system-tools.ts';
import { detectFileLayout } from '../../../lib/dicom/part10.ts';
import { extractIndexAttributesFromFile } from '../../../lib/dicom/file.ts';
import { memoryAttachmentSink } from '../../../lib/soap/index.ts';
import { readKosManifest } from '../../../lib/dicom/kos.ts';
import { DocumentConsumer } from '../../consumer/index.ts';
import { runCli, startChildNetwork, type ChildNetwork } from './testing/child-network.ts';

const skip = requireTools({ commands: ['storescu'], shared: true });
const ptFiles = Array.from({ length: 10 }, (_, i) => join(corpusDir, `pt_series_inst${String(i + 1).padStart(2, '0')}.dcm`));
const ctFile = join(corpusDir, 'ct_implicit_le.dcm');

/** The dataset bytes of a Part 10 file (or of a raw dataset): what the modality transmitted. */
function datasetOf(bytes: Buffer): Buffer {
  return bytes.subarray(detectFileLayout(bytes.subarray(0, 64 * 1024)).datasetOffset);
}

/** storescu re-encodes files (group lengths, meta): the reference is what it transmits, as captured by a bit-preserving storescp. */
async function transmittedDatasets(files: readonly string[], storescuArgs: readonly string[]): Promise<Map<string, Buffer>> {
  const outDir = mkdtempSync(join(tmpdir(), 'transmitted-'));
  const scp = await startStorescp({ outDir, extraArgs: ['-B'] });
  try {
    const sent = await storescu({ port: scp.port, calledAeTitle: scp.aeTitle, files, extraArgs: storescuArgs });
    assert.equal(sent.code, 0, sent.stderr);
  } finally {
    await scp.stop();
  }
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(outDir)) {
    const path = join(outDir, name);
    out.set((await extractIndexAttributesFromFile(path)).header.attributes.instance.sopInstanceUid!, datasetOf(readFileSync(path)));
  }
  rmSync(outDir, { recursive: true, force: true });
  return out;
}

/** Propose only the file's own transfer syntax, so every receiver gets the same encoding. */
const PT_PROPOSAL = ['-xe'];
const CT_PROPOSAL = ['-xi'];

async function studyUidOf(file: string): Promise<string> {
  return (await extractIndexAttributesFromFile(file)).header.attributes.study.instanceUid!;
}

function parseSendOutput(stdout: string): { accessCode: string; dateOfBirth: string; patientId: string } {
  const line = (label: string) => new RegExp(`^${label}: (.+)$`, 'm').exec(stdout)?.[1] ?? '';
  return { accessCode: line('Access code'), dateOfBirth: line('Date of birth'), patientId: line('Patient ID') };
}

let net: ChildNetwork;

before(async () => {
  if (skip) return;
  net = await startChildNetwork();
});

after(async () => {
  await net?.stop();
});

test('storescu → edge → `imageshare edge send` → consumer with DOB + access code gets every image byte-identical over HTTPS', { skip, timeout: 300_000 }, async () => {
  for (const [files, proposal] of [[ptFiles, PT_PROPOSAL], [[ctFile], CT_PROPOSAL]] as const) {
    const sent = await storescu({ port: net.dicomPort, calledAeTitle: 'IMAGESHARE', files, extraArgs: proposal });
    assert.equal(sent.code, 0, sent.stderr);
  }

  const consumer = new DocumentConsumer({
    baseUrl: net.httpsUrl,
    tls: net.clientTls,
    networkKey: net.identity.networkKey,
    patientIdAuthority: net.identity.oids.patientIdAuthority,
  });
  for (const files of [ptFiles, [ctFile]]) {
    const studyUid = await studyUidOf(files[0]!);
    const cli = await runCli(net, ['edge', 'send', '--study', studyUid, ...(files.length === 1 ? ['--dob', '19700312'] : [])]);
    assert.equal(cli.code, 0, `${cli.stderr}\n${net.output()}`);
    const released = parseSendOutput(cli.stdout);
    assert.match(released.accessCode, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.match(released.dateOfBirth, /^\d{8}$/);
    assert.equal(cli.stdout.trim().split('\n').length, 3, 'stdout holds exactly the three result lines');

    // The consumer knows only the date of birth and the access code.
    const patientId = consumer.patientIdFor(released.dateOfBirth, released.accessCode.toLowerCase());
    assert.equal(patientId, released.patientId);
    const exams = await consumer.findExams(patientId);
    assert.equal(exams.length, 1);
    const exam = exams[0]!;
    assert.equal(exam.manifests.length, 1);
    assert.equal(exam.reports.length, 0, 'the edge has no report source yet');
    const [manifestDoc] = await consumer.retrieveDocuments(exam.manifests, memoryAttachmentSink(), patientId);
    assert.equal(manifestDoc?.mimeType, 'application/dicom');
    const manifest = readKosManifest(manifestDoc!.binary!.ref.data);
    assert.equal(manifest.studyInstanceUid, studyUid);
    assert.equal(manifest.references.length, files.length);
    assert.ok(manifest.references.every((r) => r.retrieveLocationUid === net.identity.oids.repositoryUniqueId));

    const images = await consumer.retrieveImages(manifest, exam.manifests[0]!.repositoryUniqueId!, memoryAttachmentSink(), patientId);
    assert.equal(images.length, files.length);
    const originals = await transmittedDatasets(files, files.length === 1 ? CT_PROPOSAL : PT_PROPOSAL);
    assert.equal(originals.size, files.length);
    for (const img of images) {
      const original = originals.get(img.documentUniqueId);
      assert.ok(original, `unexpected instance ${img.documentUniqueId}`);
      const received = datasetOf(img.binary!.ref.data);
      if (!received.equals(original)) {
        let at = 0;
        while (at < Math.min(received.length, original.length) && received[at] === original[at]) at++;
        assert.fail(`instance ${img.documentUniqueId} differs from what was transmitted: ${received.length} vs ${original.length} bytes, first difference at ${at}, TS ${detectFileLayout(img.binary!.ref.data).transferSyntaxUid}`);
      }
    }
  }
});

test('`imageshare consumer fetch` writes manifest and images; unknown code → non-zero exit', { skip, timeout: 120_000 }, async () => {
  const studyUid = await studyUidOf(ctFile);
  const again = await runCli(net, ['edge', 'send', '--study', studyUid, '--dob', '19700312']);
  assert.equal(again.code, 0, again.stderr);
  const released = parseSendOutput(again.stdout);
  const out = mkdtempSync(join(tmpdir(), 'consumer-fetch-'));
  try {
    const fetched = await runCli(net, ['consumer', 'fetch', '--dob', released.dateOfBirth, '--code', released.accessCode, '--out', join(out, 'exam')]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.match(fetched.stdout, /^Images: 1$/m);
    const folder = join(out, 'exam', studyUid);
    const names = readdirSync(folder);
    assert.ok(names.some((n) => n.startsWith('manifest-') && n.endsWith('.dcm')), names.join());
    const imageFiles = readdirSync(join(folder, 'images'));
    assert.equal(imageFiles.length, 1);
    const [transmitted] = (await transmittedDatasets([ctFile], CT_PROPOSAL)).values();
    assert.ok(datasetOf(readFileSync(join(folder, 'images', imageFiles[0]!))).equals(transmitted!));

    const nothing = await runCli(net, ['consumer', 'fetch', '--dob', '19010101', '--code', released.accessCode, '--out', join(out, 'none')]);
    assert.notEqual(nothing.code, 0);
    assert.match(nothing.stderr, /nothing found/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('`imageshare edge send` explains failures: unknown study', { skip, timeout: 60_000 }, async () => {
  const r = await runCli(net, ['edge', 'send', '--study', '1.2.3.4.5.6.7.8.9']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not on the edge/);
  assert.equal(r.stdout, '');
});

const benchDir = '/tmp/imageshare-bench/study400';
// A measurement, not a check to run on every commit: registered only when asked for, so the suite
// never reports it as skipped (in CI a skipped test counts as a failure).
const measureSubmission = process.env.IMAGESHARE_SUBMISSION_BENCH === '1' ? test : () => undefined;

measureSubmission('400-slice study: release to registered manifest, server peak RSS', { skip, timeout: 900_000 }, async () => {
  if (!existsSync(benchDir) || readdirSync(benchDir).length < 400) {
    const gen = spawnSync('python3', [join(sharedDir, 'bench', 'gen_study.py'), benchDir, '--n', '400'], { stdio: 'inherit' });
    assert.equal(gen.status, 0);
  }
  const files = readdirSync(benchDir).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(benchDir, f));
  const sent = await storescu({ port: net.dicomPort, calledAeTitle: 'IMAGESHARE', files, timeoutMs: 600_000 });
  assert.equal(sent.code, 0, sent.stderr);
  const studyUid = await studyUidOf(files[0]!);
  net.resetPeakRss();
  process.stderr.write(`\n[submission bench] server RSS before the release: ${(net.peakRssKb() / 1024).toFixed(0)} MB\n`);
  const started = Date.now();
  const cli = await runCli(net, ['edge', 'send', '--study', studyUid, '--dob', '19700312']);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(cli.code, 0, cli.stderr);
  const peakMb = net.peakRssKb() / 1024;
  const status = (await (await fetch(`${net.httpUrl}/api/edge/release/${studyUid}`, { headers: { authorization: `Bearer ${net.identity.cliToken}` } })).json()) as { history: { status: string; at: string }[] };
  const at = (s: string) => Date.parse(status.history.find((h) => h.status === s)!.at);
  const serverSeconds = (at('manifest-registered') - at('queued')) / 1000;
  const stowSeconds = (at('images-sent') - at('sending-images')) / 1000;
  process.stderr.write(
    `\n[submission bench] 400 instances: release → registered manifest ${serverSeconds.toFixed(1)} s in the server (STOW-RS ${stowSeconds.toFixed(1)} s), ${seconds.toFixed(1)} s with the CLI's start; server peak RSS during the submission ${peakMb.toFixed(0)} MB\n`,
  );
  assert.ok(peakMb < 300, `peak RSS ${peakMb.toFixed(0)} MB`);
});
