// PacsConnector over our DIMSE client: C-ECHO, study-level C-FIND (Study Root) and C-MOVE.
import { DicomClient, SopClass, TransferSyntax, encodeDataSet, type DataElementInput, type DataSetRecord } from '../../lib/dimse/index.ts';
import type { PacsDevice } from '../../config/schema.ts';
import type { MoveResult, PacsConnector, StudyMatch } from './pacs-pull.ts';

const implicitAndExplicit = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];

function str(v: DataSetRecord[string] | undefined): string | null {
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    const first: unknown = v[0];
    return typeof first === 'string' ? first.trim() || null : null;
  }
  return null;
}

/** The study-level C-FIND identifier the edge sends (also recorded, encoded, in the audit trail). */
export function studyFindIdentifier(keys: { patientId: string; accessionNumber: string }): DataElementInput[] {
  return [
    { tag: 'QueryRetrieveLevel', value: 'STUDY' },
    { tag: 'PatientID', value: keys.patientId },
    { tag: 'AccessionNumber', value: keys.accessionNumber },
    { tag: 'StudyInstanceUID', value: '' },
    { tag: 'NumberOfStudyRelatedInstances', value: '' },
  ];
}

/** The identifier in Implicit VR Little Endian, as the audit message's query data set. */
export function encodedStudyFindIdentifier(keys: { patientId: string; accessionNumber: string }): Buffer {
  return encodeDataSet(studyFindIdentifier(keys), { explicitVr: false });
}

export function createDimsePacsConnector(ownAet: string, opts: { timeoutMs?: number; moveTimeoutMs?: number } = {}): PacsConnector {
  const connect = (device: PacsDevice, abstractSyntaxUid: string) =>
    DicomClient.connect({
      host: device.host,
      port: device.port,
      callingAeTitle: ownAet,
      calledAeTitle: device.aet,
      contexts: [{ abstractSyntaxUid, transferSyntaxUids: implicitAndExplicit }],
      timeoutMs: opts.timeoutMs ?? 15_000,
      dimseTimeoutMs: abstractSyntaxUid === SopClass.StudyRootQueryRetrieveMove ? (opts.moveTimeoutMs ?? 0) : 60_000,
    });

  async function withClient<T>(device: PacsDevice, abstractSyntaxUid: string, fn: (c: DicomClient) => Promise<T>): Promise<T> {
    const client = await connect(device, abstractSyntaxUid);
    try {
      return await fn(client);
    } finally {
      await client.release().catch(() => client.abort());
    }
  }

  return {
    async echo(device) {
      await withClient(device, SopClass.Verification, async (c) => {
        const r = await c.echo();
        if (r.status !== 0) throw new Error(`C-ECHO status 0x${r.status.toString(16)}`);
      });
    },

    async findStudies(device, keys) {
      return withClient(device, SopClass.StudyRootQueryRetrieveFind, async (c) => {
        const matches = await c.findAll({
          sopClassUid: SopClass.StudyRootQueryRetrieveFind,
          identifier: studyFindIdentifier(keys),
        });
        const out: StudyMatch[] = [];
        for (const m of matches) {
          const uid = str(m.StudyInstanceUID);
          if (!uid) continue;
          const n = str(m.NumberOfStudyRelatedInstances);
          out.push({ studyInstanceUid: uid, numberOfInstances: n !== null && /^\d+$/.test(n) ? Number(n) : null });
        }
        return out;
      });
    },

    async moveStudy(device, studyInstanceUid, destinationAet): Promise<MoveResult> {
      return withClient(device, SopClass.StudyRootQueryRetrieveMove, async (c) => {
        const r = await c.move({
          sopClassUid: SopClass.StudyRootQueryRetrieveMove,
          destination: destinationAet,
          identifier: [
            { tag: 'QueryRetrieveLevel', value: 'STUDY' },
            { tag: 'StudyInstanceUID', value: studyInstanceUid },
          ],
        });
        return { completed: r.completed, failed: r.failed, warning: r.warning, status: r.status };
      });
    },
  };
}
