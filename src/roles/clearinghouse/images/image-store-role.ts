// The clearinghouse image store: STOW-RS intake (POST /dicomweb/studies), WADO-URI (RAD-55) for single
// instances, and the ImagingInstanceSource that RAD-69 retrieves from. The bytes live in the shared
// content-addressed blob store, the index in clearinghouse_instance.
import type { ClearinghouseOptions } from '../clearinghouse-role.ts';
import type { ImagingInstanceSource } from '../imaging-source.ts';
import { DEFAULT_IMPLEMENTATION_CLASS_UID, DEFAULT_IMPLEMENTATION_VERSION_NAME } from '../../../lib/dimse/uids.ts';
import { ImageIndex } from './image-index.ts';
import { createInstanceSource } from './instance-source.ts';
import type { Requester } from './requester.ts';
import { registerStowRoutes } from './stow-routes.ts';
import { registerWadoUriRoutes } from './wado-uri-routes.ts';

export interface ImageStoreRole {
  source: ImagingInstanceSource;
  index: ImageIndex;
  close(): Promise<void>;
}

export async function startImageStore(opts: ClearinghouseOptions): Promise<ImageStoreRole> {
  const { app, audit, blobs, config, db, log } = opts;
  const index = new ImageIndex(db);
  const source = createInstanceSource({
    index,
    blobs,
    implementationClassUid: DEFAULT_IMPLEMENTATION_CLASS_UID,
    implementationVersionName: DEFAULT_IMPLEMENTATION_VERSION_NAME,
    sourceAet: config.dicom.aet,
  });
  const participant = (r: Requester) =>
    r.kind === 'node' ? { source: { userId: r.name, host: r.host }, user: undefined } : { source: { userId: r.username, host: r.host }, user: { userId: r.username, host: r.host } };

  await registerStowRoutes(app, {
    index,
    blobs,
    log: log.child({ component: 'stow-rs' }),
    onStudyStored({ requester, study }) {
      const { source: sender, user } = participant(requester);
      audit.emit(() =>
        audit.events.rad108StoreInstances({
          role: 'receiver',
          source: sender,
          destination: audit.node,
          ...(user ? { user } : {}),
          patientId: study.patientId ?? 'unknown',
          studies: [{ uid: study.studyInstanceUid, sopClasses: [...study.sopClasses].map(([uid, instanceUids]) => ({ uid, instanceUids })) }],
        }),
      );
    },
  });
  await registerWadoUriRoutes(app, {
    source,
    onRetrieved({ requester, studyInstanceUid, sopClassUid, sopInstanceUid, outcome }) {
      const { source: receiver, user } = participant(requester);
      void index.findInstance(sopInstanceUid).then((row) =>
        audit.emit(() =>
          audit.events.rad55WadoRetrieve({
            role: 'server',
            source: audit.node,
            destination: receiver,
            ...(user ? { user } : {}),
            outcome,
            patientId: row?.patient_id ?? 'unknown',
            studies: [{ uid: studyInstanceUid, sopClasses: [{ uid: sopClassUid, instanceUids: [sopInstanceUid] }] }],
          }),
        ),
      );
    },
  });
  return { source, index, close: async () => undefined };
}
