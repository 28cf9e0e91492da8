// DicomClient C-FIND and C-MOVE against Orthanc used as a PACS; the C-MOVE destination is a
// DicomServer known to Orthanc under AE title EDGE.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type RunningOrthanc, orthancBinary, startOrthanc } from '../../../test-support/orthanc.ts';
import { corpusDir, requireTools } from '../../../test-support/system-tools.ts';
import { DicomClient } from './client.ts';
import { DimseStatusError } from './errors.ts';
import { readPart10Info } from './part10.ts';
import { DicomServer } from './server.ts';
import type { CStoreRequest } from './server-association.ts';
import { Status } from './status.ts';
import { SopClass, TransferSyntax } from './uids.ts';

const skip = requireTools({ commands: [orthancBinary], shared: true });

const studyFiles = [...Array.from({ length: 10 }, (_, i) => `pt_series_inst${String(i + 1).padStart(2, '0')}.dcm`), 'kos_manifest_pt_series.dcm'].map((f) => join(corpusDir, f));

async function drain(data: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of data as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes;
}

describe('DicomClient against Orthanc', { skip }, () => {
  let orthanc: RunningOrthanc;
  let edge: DicomServer;
  const moved: Array<{ request: CStoreRequest; calledAeTitle: string; bytes: number }> = [];
  let client: DicomClient;

  before(async () => {
    edge = new DicomServer({
      handlers: {
        async onCStore(request, data, association) {
          moved.push({ request, calledAeTitle: association.calledAeTitle, bytes: await drain(data) });
          return { status: Status.Success };
        },
      },
    });
    const { port } = await edge.listen(0, '127.0.0.1');
    orthanc = await startOrthanc({
      dicomAet: 'PACS',
      modalities: {
        edge: { aeTitle: 'EDGE', host: '127.0.0.1', port },
        scu: { aeTitle: 'OURSCU', host: '127.0.0.1', port },
      },
    });
    for (const file of studyFiles) assert.equal((await orthanc.upload(file)).Status, 'Success', file);
    client = await DicomClient.connect({
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      callingAeTitle: 'OURSCU',
      calledAeTitle: 'PACS',
      contexts: [
        { abstractSyntaxUid: SopClass.Verification, transferSyntaxUids: [TransferSyntax.ImplicitVRLittleEndian] },
        { abstractSyntaxUid: SopClass.StudyRootQueryRetrieveFind, transferSyntaxUids: [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian] },
        { abstractSyntaxUid: SopClass.StudyRootQueryRetrieveMove, transferSyntaxUids: [TransferSyntax.ImplicitVRLittleEndian] },
        { abstractSyntaxUid: SopClass.PatientRootQueryRetrieveFind, transferSyntaxUids: [TransferSyntax.ImplicitVRLittleEndian] },
      ],
      timeoutMs: 10_000,
    });
  });

  after(async () => {
    if (client?.isEstablished) await client.release();
    await orthanc?.stop();
    await edge?.close({ graceMs: 2000 });
  });

  it('C-ECHO', async () => {
    assert.equal((await client.echo()).status, Status.Success);
  });

  it('C-FIND at study and series level', async () => {
    const studies = await client.findAll({
      identifier: [
        { tag: 'QueryRetrieveLevel', value: 'STUDY' },
        { tag: 'PatientID', value: 'IDS-DEPT024-a' },
        { tag: 'PatientName' },
        { tag: 'StudyInstanceUID' },
        { tag: 'StudyDate' },
        { tag: 'ModalitiesInStudy' },
        { tag: 'NumberOfStudyRelatedInstances' },
      ],
    });
    assert.equal(studies.length, 1);
    const study = studies[0]!;
    const first = await readPart10Info(studyFiles[0]!);
    assert.equal(study.PatientID, 'IDS-DEPT024-a');
    assert.equal(study.NumberOfStudyRelatedInstances, '11');
    assert.match(String(study.ModalitiesInStudy), /PT/);
    assert.equal(typeof study.StudyInstanceUID, 'string');

    const series = await client.findAll({
      identifier: [
        { tag: 'QueryRetrieveLevel', value: 'SERIES' },
        { tag: 'StudyInstanceUID', value: study.StudyInstanceUID as string },
        { tag: 'SeriesInstanceUID' },
        { tag: 'Modality' },
        { tag: 'NumberOfSeriesRelatedInstances' },
      ],
    });
    assert.deepEqual(series.map((s) => s.Modality).sort(), ['KO', 'PT']);
    assert.ok(first.sopInstanceUid.length > 0);

    const none = await client.findAll({ identifier: [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }, { tag: 'PatientID', value: 'NOBODY' }] });
    assert.equal(none.length, 0);
  });

  it('C-MOVE of the study to our SCP, with progress', async () => {
    const [study] = await client.findAll({ identifier: [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }, { tag: 'PatientID', value: 'IDS-DEPT024-a' }, { tag: 'StudyInstanceUID' }] });
    const progress: number[] = [];
    const result = await client.move(
      { destination: 'EDGE', identifier: [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }, { tag: 'StudyInstanceUID', value: study!.StudyInstanceUID as string }] },
      { onProgress: (p) => progress.push(p.completed) },
    );
    assert.equal(result.status, Status.Success);
    assert.deepEqual([result.completed, result.failed, result.warning], [11, 0, 0]);
    assert.ok(progress.length >= 1, 'pending responses were reported');
    assert.equal(moved.length, 11);
    const expected = await Promise.all(studyFiles.map((f) => readPart10Info(f)));
    assert.deepEqual(moved.map((m) => m.request.affectedSopInstanceUid).sort(), expected.map((e) => e.sopInstanceUid).sort());
    for (const m of moved) {
      assert.equal(m.calledAeTitle, 'EDGE');
      assert.equal(m.request.moveOriginatorAeTitle, 'OURSCU');
      assert.ok(m.bytes > 1000);
    }
  });

  it('C-MOVE to an unknown destination fails with a typed status error', async () => {
    // PS3.4 suggests 0xA801; Orthanc 1.10 answers 0xC000 (unable to process). Either is a failure.
    await assert.rejects(
      client.move({ destination: 'NOSUCHAE', identifier: [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }, { tag: 'PatientID', value: 'IDS-DEPT024-a' }] }),
      (err: unknown) => err instanceof DimseStatusError && (err.status === Status.MoveDestinationUnknown || err.status === Status.UnableToProcess),
    );
    assert.equal((await client.echo()).status, Status.Success, 'association still usable');
  });
});
