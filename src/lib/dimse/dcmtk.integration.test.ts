// Interoperability with DCMTK: echoscu / storescu / dcmsend against DicomServer, and DicomClient
// against storescp. Received data sets are compared byte for byte with the source files.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { dcmsend, echoscu, runDcmtk, startStorescp, storescu, storescuProposalFor } from '../../../test-support/dcmtk.ts';
import { corpusDir, requireTools } from '../../../test-support/system-tools.ts';
import { DicomClient } from './client.ts';
import { type Part10Info, readPart10Info } from './part10.ts';
import { DicomServer } from './server.ts';
import type { ServerAssociation } from './server-association.ts';
import { Status } from './status.ts';
import { SopClass, TransferSyntax } from './uids.ts';

const skip = requireTools({ commands: ['storescu', 'echoscu', 'dcmsend', 'storescp', 'dcmdump'], shared: true });

interface Received {
  association: string;
  callingAeTitle: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  bytes: Buffer;
}

async function collect(data: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of data as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The data set part of a file as a sender transmits it (DCMTK pads odd lengths to even). */
async function expectedDataSet(path: string, info: Part10Info): Promise<Buffer> {
  const bytes = (await readFile(path)).subarray(info.dataSetOffset);
  return bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(1)]);
}

/**
 * Corpus files that storescu sends unchanged (its re-encoding does not drop group lengths or
 * alter sequences for them), grouped by the storescu option that proposes their syntax.
 */
const byTransferSyntax: Record<string, string[]> = {
  [TransferSyntax.ExplicitVRLittleEndian]: [
    'charset_utf8_chinese.dcm',
    'pdf_encapsulated.dcm',
    'pr_gsps_large_private_ut.dcm',
    'sr_comprehensive_nested.dcm',
    'study_mr_siemens_series3.dcm',
    'nm_multiframe_explicit_le.dcm',
  ],
  [TransferSyntax.ImplicitVRLittleEndian]: ['rtplan.dcm', 'cr_mono1_raw_no_preamble.dcm'],
  [TransferSyntax.ExplicitVRBigEndian]: ['us_rgb_explicit_be.dcm'],
  [TransferSyntax.JPEGLosslessSV1]: ['ct_jpeg_lossless_sv1.dcm', 'mg_siemens_jpeg_lossless_utf8.dcm'],
  [TransferSyntax.JPEGLSLossless]: ['us_palette_multiframe_jpegls.dcm'],
  [TransferSyntax.DeflatedExplicitVRLittleEndian]: ['ct_deflated.dcm'],
};

describe('DCMTK tools against DicomServer', { skip }, () => {
  let server: DicomServer;
  let port = 0;
  let received: Received[] = [];
  let peakAssociations = 0;

  before(async () => {
    server = new DicomServer({
      handlers: {
        async onCStore(request, data, association: ServerAssociation) {
          const bytes = await collect(data);
          received.push({
            association: association.id,
            callingAeTitle: association.callingAeTitle,
            sopInstanceUid: request.affectedSopInstanceUid,
            transferSyntaxUid: request.transferSyntaxUid,
            bytes,
          });
          return { status: Status.Success };
        },
      },
    });
    server.on('association', () => (peakAssociations = Math.max(peakAssociations, server.associationCount)));
    port = (await server.listen(0, '127.0.0.1')).port;
  });
  afterEach(() => {
    received = [];
    peakAssociations = 0;
  });
  after(async () => {
    await server.close({ graceMs: 1000 });
  });

  it('echoscu gets a C-ECHO success', async () => {
    const result = await echoscu({ port, calledAeTitle: 'ANYSCP' });
    assert.equal(result.code, 0, result.stderr);
  });

  for (const [transferSyntaxUid, files] of Object.entries(byTransferSyntax)) {
    it(`storescu ${storescuProposalFor(transferSyntaxUid)}: ${files.length} file(s) in ${transferSyntaxUid} arrive byte for byte`, async () => {
      const paths = files.map((f) => join(corpusDir, f));
      const result = await storescu({ port, files: paths, extraArgs: ['-R', storescuProposalFor(transferSyntaxUid)] });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(received.length, files.length);
      for (const path of paths) {
        const info = await readPart10Info(path);
        const got = received.find((r) => r.sopInstanceUid === info.sopInstanceUid);
        assert.ok(got, `${path} arrived`);
        assert.equal(got.transferSyntaxUid, transferSyntaxUid, `${path} kept its transfer syntax`);
        assert.ok(got.bytes.equals(await expectedDataSet(path, info)), `${path}: bytes identical`);
      }
    });
  }

  it('four storescu associations in parallel all arrive intact', async () => {
    const files = byTransferSyntax[TransferSyntax.ExplicitVRLittleEndian]!.map((f) => join(corpusDir, f));
    const results = await Promise.all([1, 2, 3, 4].map((n) => storescu({ port, callingAeTitle: `PAR${n}`, files, extraArgs: ['-R', '-xe'] })));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.equal(received.length, 4 * files.length);
    assert.equal(new Set(received.map((r) => r.association)).size, 4);
    for (const path of files) {
      const info = await readPart10Info(path);
      const expected = await expectedDataSet(path, info);
      const copies = received.filter((r) => r.sopInstanceUid === info.sopInstanceUid);
      assert.equal(copies.length, 4);
      for (const copy of copies) assert.ok(copy.bytes.equals(expected), `${path} from ${copy.callingAeTitle}`);
    }
    assert.ok(peakAssociations >= 2, `associations overlapped (peak ${peakAssociations})`);
  });

  it('dcmsend delivers a file', async () => {
    const path = join(corpusDir, 'pdf_encapsulated.dcm');
    const result = await dcmsend({ port, files: [path] });
    assert.equal(result.code, 0, result.stderr);
    const info = await readPart10Info(path);
    assert.equal(received.length, 1);
    assert.equal(received[0]!.sopInstanceUid, info.sopInstanceUid);
    assert.ok(received[0]!.bytes.equals(await expectedDataSet(path, info)));
  });
});

describe('DicomClient against storescp', { skip }, () => {
  let outDir = '';
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'storescp-out-'));
  });
  after(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('C-ECHO and C-STORE of files in several transfer syntaxes', async () => {
    // +xa: storescp accepts every transfer syntax it knows (by default only uncompressed ones).
    const scp = await startStorescp({ outDir, extraArgs: ['+xa'] });
    try {
      const files = ['ct_implicit_le.dcm', 'ct_j2k_lossless.dcm', 'pdf_encapsulated.dcm', 'us_rgb_explicit_be.dcm', 'ct_deflated.dcm'].map((f) => join(corpusDir, f));
      const infos = await Promise.all(files.map((f) => readPart10Info(f)));
      const client = await DicomClient.connect({
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle: 'OURSCU',
        calledAeTitle: scp.aeTitle,
        contexts: [
          { abstractSyntaxUid: SopClass.Verification, transferSyntaxUids: [TransferSyntax.ImplicitVRLittleEndian] },
          ...infos.map((i) => ({ abstractSyntaxUid: i.sopClassUid, transferSyntaxUids: [i.transferSyntaxUid] })),
        ],
      });
      try {
        assert.equal((await client.echo()).status, Status.Success);
        for (const file of files) assert.equal((await client.storeFile(file)).status, Status.Success, file);
      } finally {
        await client.release();
      }
      const written = await readdir(outDir);
      for (const info of infos) {
        const name = written.find((n) => n.endsWith(info.sopInstanceUid));
        assert.ok(name, `storescp wrote ${info.sopInstanceUid}`);
        const dump = await runDcmtk('dcmdump', ['-q', '+P', 'SOPInstanceUID', '+P', 'TransferSyntaxUID', join(outDir, name)]);
        assert.equal(dump.code, 0, dump.stderr);
        assert.ok(dump.stdout.includes(info.sopInstanceUid));
      }
    } finally {
      await scp.stop();
    }
  });
});
