// Integration: every corpus file sent to the edge with DCMTK in its own transfer syntax (one
// association, and several in parallel) is stored exactly as transmitted — compared with what DCMTK
// storescp +B +xa receives from the same command — and listed by the staff API with decoded names;
// a file without Study/Series/SOP Instance UIDs is refused while the others go through.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { corpusDir, requireTools } from '../../../test-support/system-tools.ts';
import { dcmsend, runDcmtk, startStorescp, storescu, storescuProposalFor, type RunningStorescp, type ToolResult } from '../../../test-support/dcmtk.ts';
import { startTestNetwork, type TestNetwork } from '../../../test-support/network.ts';
import { readFileLayout } from '../../lib/dicom/part10.ts';
import { extractIndexAttributesFromFile } from '../../lib/dicom/file.ts';

const skip = requireTools({ commands: ['dcmsend', 'storescu', 'storescp', 'dcmodify'], shared: true });

const EXPECTED_NAMES: Record<string, string> = {
  'charset_iso2022_japanese.dcm': 'Yamada^Tarou=山田^太郎=やまだ^たろう',
  'charset_iso2022_korean.dcm': 'Hong^Gildong=洪^吉洞=홍^길동',
  'charset_utf8_chinese.dcm': 'Wang^XiaoDong=王^小東=',
  'charset_gb18030.dcm': 'Wang^XiaoDong=王^小东=',
  'charset_arabic.dcm': 'قباني^لنزار',
  'charset_greek.dcm': 'Διονυσιος',
  'charset_hebrew.dcm': 'שרון^דבורה',
  // Mixed Latin and Cyrillic letters, as in the sample (checked against dcmconv +U8).
  'charset_cyrillic.dcm': '\u041b\u044e\u043a\u0063\u0065\u043c\u0431\u0079\u0070\u0433',
};

/** DCMTK 3.6.7 cannot send HTJ2K: those files are left to the STOW-RS tests. */
const HTJ2K = new Set(['1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203']);

interface CorpusFile {
  name: string;
  path: string;
  transferSyntaxUid: string;
  hasMeta: boolean;
  /** dcmsend refuses files whose meta lacks the SOP Class/Instance (storescu reads them from the dataset). */
  metaNamesInstance: boolean;
  datasetOffset: number;
  sopInstanceUid: string | null;
  studyInstanceUid: string | null;
  hasAllUids: boolean;
}

async function loadCorpus(): Promise<CorpusFile[]> {
  const files: CorpusFile[] = [];
  for (const name of readdirSync(corpusDir).filter((f) => f.endsWith('.dcm')).sort()) {
    const path = join(corpusDir, name);
    const { layout } = await readFileLayout(path);
    const { header } = await extractIndexAttributesFromFile(path);
    const a = header.complete ? header.attributes : null;
    files.push({
      name,
      path,
      transferSyntaxUid: layout.transferSyntaxUid,
      hasMeta: layout.kind !== 'raw-dataset',
      metaNamesInstance: Boolean(layout.meta?.mediaStorageSopClassUid && layout.meta.mediaStorageSopInstanceUid),
      datasetOffset: layout.datasetOffset,
      sopInstanceUid: a?.instance.sopInstanceUid ?? null,
      studyInstanceUid: a?.study.instanceUid ?? null,
      hasAllUids: Boolean(a?.study.instanceUid && a.series.instanceUid && a.instance.sopInstanceUid),
    });
  }
  return files;
}

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';

/**
 * Sends files the way a site would, each in its own transfer syntax: dcmsend for Part 10 files, one
 * association for all of them. dcmsend proposes Explicit VR Little Endian first for any uncompressed
 * file (and converts), so Implicit VR LE and Big Endian files go with storescu proposing exactly their
 * syntax, as do bare datasets without File Meta and files whose meta does not name the instance.
 */
async function sendAll(port: number, calledAet: string, files: CorpusFile[], reportDir: string, tag: string): Promise<ToolResult[]> {
  const results: ToolResult[] = [];
  const needsStorescu = (f: CorpusFile) => !f.hasMeta || !f.metaNamesInstance || f.transferSyntaxUid === IMPLICIT_LE || f.transferSyntaxUid === EXPLICIT_BE;
  const viaDcmsend = files.filter((f) => !needsStorescu(f));
  if (viaDcmsend.length > 0) {
    results.push(
      await dcmsend({
        port,
        calledAeTitle: calledAet,
        callingAeTitle: 'CORPUSSCU',
        files: viaDcmsend.map((f) => f.path),
        extraArgs: ['-nuc', '-nh', '-dn', '+crf', join(reportDir, `${tag}.report.txt`)],
      }),
    );
  }
  const groups = new Map<string, CorpusFile[]>();
  for (const f of files.filter(needsStorescu)) {
    const key = `${f.hasMeta ? 'file' : 'dataset'} ${f.transferSyntaxUid}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const extraArgs = [...(first.hasMeta ? [] : ['-f']), storescuProposalFor(first.transferSyntaxUid)];
    results.push(await storescu({ port, calledAeTitle: calledAet, callingAeTitle: 'CORPUSSCU', files: group.map((f) => f.path), extraArgs }));
  }
  return results;
}

function datasetOf(file: string): Buffer {
  const bytes = readFileSync(file);
  // storescp +B writes Part 10: preamble, DICM, meta group (group length first), then the dataset.
  const groupLength = bytes.readUInt32LE(132 + 8);
  return bytes.subarray(132 + 12 + groupLength);
}

describe('edge Storage SCP with the DICOM corpus (integration)', { skip }, () => {
  let net: TestNetwork;
  let work: string;
  let storescp: RunningStorescp;
  let corpus: CorpusFile[];
  let sendable: CorpusFile[];
  let refusedCopy: CorpusFile;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'edge-corpus-'));
    corpus = await loadCorpus();
    sendable = corpus.filter((f) => !HTJ2K.has(f.transferSyntaxUid) && f.hasAllUids);
    // A file without Study Instance UID: a corpus CT with the attribute removed.
    const broken = join(work, 'no-study-uid.dcm');
    copyFileSync(join(corpusDir, 'ct_jpeg_lossless_sv1.dcm'), broken);
    const r = await runDcmtk('dcmodify', ['-nb', '-ea', '(0020,000d)', '-gin', broken]);
    assert.equal(r.code, 0, r.stderr);
    const { layout } = await readFileLayout(broken);
    refusedCopy = {
      name: 'no-study-uid.dcm',
      path: broken,
      transferSyntaxUid: layout.transferSyntaxUid,
      hasMeta: true,
      metaNamesInstance: true,
      datasetOffset: layout.datasetOffset,
      sopInstanceUid: null,
      studyInstanceUid: null,
      hasAllUids: false,
    };
    net = await startTestNetwork();
    mkdirSync(join(work, 'storescp'));
    storescp = await startStorescp({ outDir: join(work, 'storescp'), extraArgs: ['+B', '+xa', '-uf'] });
  });

  after(async () => {
    await storescp?.stop();
    await net?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('every file with UIDs is stored exactly as DCMTK storescp +B receives it, in one association', async () => {
    assert.ok(sendable.length >= 35, `expected most of the corpus to be sendable, got ${sendable.length}`);
    // The refused file sits in the middle of the same association as the others.
    const half = Math.floor(sendable.length / 2);
    const files = [...sendable.slice(0, half), refusedCopy, ...sendable.slice(half)];
    const ours = await sendAll(net.network.ports.dicom, net.config.dicom.aet, files, work, 'ours');
    const theirs = await sendAll(storescp.port, storescp.aeTitle, files, work, 'storescp');
    assert.ok(theirs.every((r) => r.code === 0), theirs.map((r) => r.stderr).join('\n'));

    const report = readFileSync(join(work, 'ours.report.txt'), 'utf8');
    // dcmsend's report: the refused file failed, and the failure did not stop the association.
    assert.match(report, /no-study-uid\.dcm/);
    assert.ok(ours.some((r) => /0xc000|Cannot understand|failed/i.test(r.stderr + r.stdout + report)), report);

    const received = new Map<string, Buffer>();
    for (const name of readdirSync(join(work, 'storescp'))) {
      const path = join(work, 'storescp', name);
      const { header } = await extractIndexAttributesFromFile(path);
      if (header.complete && header.attributes.instance.sopInstanceUid) received.set(header.attributes.instance.sopInstanceUid, datasetOf(path));
    }
    for (const f of sendable) {
      const row = await net.network.db.db
        .selectFrom('edge_instance')
        .select(['blob_key', 'transfer_syntax_uid'])
        .where('sop_instance_uid', '=', f.sopInstanceUid!)
        .executeTakeFirst();
      assert.ok(row, `${f.name} was not indexed`);
      assert.equal(row.transfer_syntax_uid, f.transferSyntaxUid, `${f.name}: stored in its own transfer syntax`);
      const stored = await buffer(net.network.blobs.openRead(row.blob_key));
      const reference = received.get(f.sopInstanceUid!);
      assert.ok(reference, `storescp did not receive ${f.name}`);
      assert.ok(stored.equals(reference), `${f.name}: stored dataset differs from what storescp +B received`);
    }
    const indexed = new Set((await net.network.db.db.selectFrom('edge_instance').select('sop_instance_uid').execute()).map((r) => r.sop_instance_uid));
    assert.deepEqual(sendable.filter((f) => !indexed.has(f.sopInstanceUid!)).map((f) => f.name), []);
    const total = await net.network.edge.index.countInstances();
    assert.equal(total, sendable.length, 'the refused file was not indexed, all others were');
  });

  test('the staff API lists the studies with correctly decoded names for every character set', async () => {
    const res = await fetch(`${net.baseUrl}/api/edge/studies`, { headers: { authorization: net.adminAuth } });
    assert.equal(res.status, 200);
    const studies = (await res.json()) as Array<{ studyInstanceUid: string; patientName: string | null; numberOfInstances: number; modalities: string[] }>;
    const byUid = new Map(studies.map((s) => [s.studyInstanceUid, s]));
    for (const [file, expected] of Object.entries(EXPECTED_NAMES)) {
      const f = corpus.find((c) => c.name === file)!;
      assert.equal(byUid.get(f.studyInstanceUid!)?.patientName, expected, file);
    }
    const instances = studies.reduce((n, s) => n + s.numberOfInstances, 0);
    assert.equal(instances, sendable.length);
    const pt = corpus.find((c) => c.name === 'pt_series_inst01.dcm')!;
    // The PET study: ten slices plus the KOS manifest that references them.
    assert.equal(byUid.get(pt.studyInstanceUid!)?.numberOfInstances, 11);
    assert.deepEqual(byUid.get(pt.studyInstanceUid!)?.modalities, ['KO', 'PT']);
  });

  test('several associations in parallel store every file once; resending is answered with success', async () => {
    const parallel = await startTestNetwork();
    try {
      const groups = [0, 1, 2, 3].map((g) => sendable.filter((_, i) => i % 4 === g));
      const results = await Promise.all(groups.map((g, i) => sendAll(parallel.network.ports.dicom, parallel.config.dicom.aet, g, work, `par${i}`)));
      assert.ok(results.flat().every((r) => r.code === 0), results.flat().map((r) => r.stderr).join('\n'));
      assert.equal(await parallel.network.edge.index.countInstances(), sendable.length);
      // The same instances again: success, nothing new stored.
      const again = await sendAll(parallel.network.ports.dicom, parallel.config.dicom.aet, sendable.slice(0, 5), work, 'again');
      assert.ok(again.every((r) => r.code === 0));
      assert.equal(await parallel.network.edge.index.countInstances(), sendable.length);
    } finally {
      await parallel.stop();
    }
  });

  test('the called AE title must be ours', async () => {
    const r = await storescu({ port: net.network.ports.dicom, calledAeTitle: 'SOMEONE_ELSE', files: [sendable[0]!.path] });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /Called AE Title Not Recognized/i);
  });
});
