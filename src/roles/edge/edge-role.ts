// The Edge Server role: Storage SCP + index + PACS pull + staff API, composed from the protocol
// libraries and the storage interfaces.
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type { Config } from '../../config/schema.ts';
import type { Database } from '../../storage/db/schema.ts';
import type { BlobStore } from '../../storage/blob/blob-store.ts';
import type { Logger } from '../../util/log.ts';
import { EdgeIndex } from './edge-index.ts';
import { InstanceIngest } from './instance-ingest.ts';
import { createStorageScp } from './storage-scp.ts';
import { createPacsPuller, type PacsPuller } from './pacs-pull.ts';
import { createDimsePacsConnector, encodedStudyFindIdentifier } from './pacs-connector.ts';
import type { PacsConnector } from './pacs-pull.ts';
import type { AuditTrail } from '../../server/audit-trail.ts';
import { SopClass, TransferSyntax } from '../../lib/dimse/index.ts';
import { registerEdgeRoutes } from './edge-routes.ts';
import { startEdgeSubmission } from './submission/index.ts';
import type { NetworkIdentity } from '../../server/identity.ts';

export interface EdgeRole {
  index: EdgeIndex;
  ingest: InstanceIngest;
  puller: PacsPuller;
  dicomPort: number;
  close(): Promise<void>;
}

export interface EdgeRoleOptions {
  config: Config;
  db: Kysely<Database>;
  /** The SQLite handle under `db`, when it is SQLite (the index's fast per-instance write). */
  sqlite?: SqliteDatabase.Database | undefined;
  blobs: BlobStore;
  app: FastifyInstance;
  audit: AuditTrail;
  identity: NetworkIdentity;
  log: Logger;
}

interface ReceivedStudy {
  patientId: string;
  accessionNumbers: Set<string>;
  sopClasses: Map<string, string[]>;
}

export async function startEdge(opts: EdgeRoleOptions): Promise<EdgeRole> {
  const { config, log, audit } = opts;
  const index = new EdgeIndex(opts.db, opts.sqlite);
  const ingest = new InstanceIngest(opts.blobs, index, log);

  // DICOM Instances Transferred (PS3.15 A.5.3.6): one message per study and association, at its end.
  const received = new Map<string, { callingAet: string; remoteAddress: string; viaMove: boolean; studies: Map<string, ReceivedStudy> }>();
  const scp = createStorageScp({
    aet: config.dicom.aet,
    allowedCallingAets: config.dicom.allowedCallingAets,
    privateSopClasses: config.dicom.privateSopClasses,
    maxPduLength: config.dicom.maxPduLength,
    maxAssociations: config.dicom.maxAssociations,
    ingest,
    log,
    onStored(e) {
      if (e.result.status !== 0 || !e.result.studyInstanceUid) return;
      const assoc = received.get(e.associationId) ?? { callingAet: e.callingAet, remoteAddress: e.remoteAddress, viaMove: e.moveOriginatorAet !== undefined, studies: new Map<string, ReceivedStudy>() };
      received.set(e.associationId, assoc);
      const study = assoc.studies.get(e.result.studyInstanceUid) ?? { patientId: e.result.patientId ?? '', accessionNumbers: new Set<string>(), sopClasses: new Map<string, string[]>() };
      assoc.studies.set(e.result.studyInstanceUid, study);
      const instances = study.sopClasses.get(e.sopClassUid);
      if (instances) instances.push(e.sopInstanceUid);
      else study.sopClasses.set(e.sopClassUid, [e.sopInstanceUid]);
    },
  });
  scp.on('associationEnded', (association) => {
    const assoc = received.get(association.id);
    if (!assoc) return;
    received.delete(association.id);
    for (const [studyUid, study] of assoc.studies) {
      audit.emit(() =>
        audit.events.dicomInstancesReceived({
          action: 'C',
          source: { userId: assoc.callingAet, host: assoc.remoteAddress },
          destination: audit.node,
          patient: study.patientId || 'unknown',
          studies: [{ uid: studyUid, sopClasses: [...study.sopClasses].map(([uid, instanceUids]) => ({ uid, instanceUids })) }],
          // C-STORE sub-operations of a C-MOVE carry the move originator: that is a retrieve (RAD-16).
          transaction: assoc.viaMove ? 'RAD-16' : 'RAD-8',
        }),
      );
    }
  });
  const dimseConnector = createDimsePacsConnector(config.dicom.aet);
  const connector: PacsConnector = {
    ...dimseConnector,
    async findStudies(device, keys) {
      const emit = (outcome: 'success' | 'serious-failure') =>
        audit.emit(() =>
          audit.events.dicomFind({
            role: 'scu',
            source: audit.node,
            destination: { userId: device.aet, host: device.host },
            sopClassUid: SopClass.StudyRootQueryRetrieveFind,
            dataset: encodedStudyFindIdentifier(keys),
            transferSyntaxUid: TransferSyntax.ImplicitVRLittleEndian,
            outcome,
          }),
        );
      try {
        const matches = await dimseConnector.findStudies(device, keys);
        emit('success');
        return matches;
      } catch (err) {
        emit('serious-failure');
        throw err;
      }
    },
  };
  const puller = createPacsPuller({
    devices: config.pacs,
    connector,
    ownAet: config.dicom.aet,
    countIndexedInstances: async (studyUid) => (await index.getStudy(studyUid))?.numberOfInstances ?? 0,
    log,
  });
  await registerEdgeRoutes(opts.app, {
    index,
    puller,
    onStudiesQueried(e) {
      audit.emit(() =>
        audit.events.query({
          source: { userId: e.staff, host: e.ip },
          destination: audit.node,
          user: { userId: e.staff, host: e.ip },
          query: audit.objects.query({ id: '/api/edge/studies', idTypeCode: audit.codes.uri, query: e.url }),
          ...(e.patientId ? { patient: e.patientId } : {}),
        }),
      );
    },
  });
  // Release jobs (STOW-RS + RAD-68 to the clearinghouse) and POST /api/edge/release.
  const submission = await startEdgeSubmission({ ...opts, index });
  const address = await scp.listen(config.dicom.port, config.dicom.host);
  return {
    index,
    ingest,
    puller,
    dicomPort: address.port,
    async close() {
      await scp.close({ graceMs: config.dicom.shutdownGraceSeconds * 1000 });
      await submission.close();
    },
  };
}
