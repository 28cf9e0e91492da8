// The edge's DICOM Storage SCP: C-ECHO and C-STORE for every standard storage SOP class (retired ones
// included) and the configured private ones, in the transfer syntax the sender proposes first (any
// syntax we know, so the dataset is stored exactly as transmitted). Called AE title must be ours;
// calling AE titles may be restricted by an allow-list.
import { DicomServer, Reject, acceptAssociation, type DimseLogger } from '../../lib/dimse/index.ts';
import { isStorageSopClass, VERIFICATION_SOP_CLASS } from '../../lib/dicom/sop-classes.ts';
import { isKnownTransferSyntax } from '../../lib/dicom/transfer-syntax.ts';
import type { Logger } from '../../util/log.ts';
import type { InstanceIngest, IngestResult } from './instance-ingest.ts';

export interface StorageScpOptions {
  aet: string;
  allowedCallingAets: readonly string[];
  privateSopClasses: readonly string[];
  maxPduLength: number;
  maxAssociations: number;
  ingest: InstanceIngest;
  log: Logger;
  /** Called after each C-STORE with its outcome (audit, release triggers). */
  onStored?: (event: { associationId: string; moveOriginatorAet: string | undefined; callingAet: string; remoteAddress: string; sopClassUid: string; sopInstanceUid: string; result: IngestResult }) => void;
}

function dimseLogger(log: Logger): DimseLogger {
  return {
    debug: (fields, msg) => log.debug(fields, msg),
    info: (fields, msg) => log.info(fields, msg),
    warn: (fields, msg) => log.warn(fields, msg),
    error: (fields, msg) => log.error(fields, msg),
  };
}

export function createStorageScp(opts: StorageScpOptions): DicomServer {
  const privateClasses = new Set(opts.privateSopClasses);
  const allowedCalling = new Set(opts.allowedCallingAets.map((a) => a.trim()));
  const acceptedAbstractSyntax = (uid: string) => uid === VERIFICATION_SOP_CLASS || isStorageSopClass(uid) || privateClasses.has(uid);

  return new DicomServer({
    maxPduLength: opts.maxPduLength,
    maxAssociations: opts.maxAssociations,
    logger: dimseLogger(opts.log.child({ component: 'dimse' })),
    handlers: {
      onAssociationRequest(info) {
        if (info.calledAeTitle.trim() !== opts.aet.trim()) {
          opts.log.warn({ calledAet: info.calledAeTitle, callingAet: info.callingAeTitle, remote: info.remoteAddress }, 'association rejected: called AE title is not ours');
          return Reject.calledAeTitleNotRecognized();
        }
        if (allowedCalling.size > 0 && !allowedCalling.has(info.callingAeTitle.trim())) {
          opts.log.warn({ callingAet: info.callingAeTitle, remote: info.remoteAddress }, 'association rejected: calling AE title not allowed');
          return Reject.callingAeTitleNotRecognized();
        }
        return acceptAssociation(info, { abstractSyntaxes: acceptedAbstractSyntax, transferSyntaxes: isKnownTransferSyntax });
      },
      async onCStore(request, data, association) {
        const result = await opts.ingest.ingest(
          {
            sopClassUid: request.affectedSopClassUid,
            sopInstanceUid: request.affectedSopInstanceUid,
            transferSyntaxUid: request.transferSyntaxUid,
            callingAet: association.callingAeTitle.trim(),
            source: `${association.callingAeTitle.trim()}@${association.remoteAddress}`,
          },
          data,
        );
        opts.onStored?.({
          associationId: association.id,
          moveOriginatorAet: request.moveOriginatorAeTitle?.trim() || undefined,
          callingAet: association.callingAeTitle.trim(),
          remoteAddress: association.remoteAddress,
          sopClassUid: request.affectedSopClassUid,
          sopInstanceUid: request.affectedSopInstanceUid,
          result,
        });
        return result.errorComment ? { status: result.status, errorComment: result.errorComment } : { status: result.status };
      },
    },
  });
}
