// RAD-69 Retrieve Imaging Document Set at the XDS-I.b Imaging Document Source: every requested SOP
// instance is looked up in the image store in one of the requested transfer syntaxes and returned
// as an application/dicom XOP part. Per-document errors (RAD69-016): unknown instance or not in the
// requested study/series → XDSDocumentUniqueIdError; no acceptable transfer syntax →
// XDSRepositoryError; another repository → XDSUnknownRepositoryId; the document is then left out.
import { expectAction } from '../../../lib/soap/index.ts';
import {
  buildRetrieveResponseMessage,
  DICOM_MIME_TYPE,
  imagingDocumentRequests,
  readRetrieveImagingDocumentSetRequest,
  registryError,
  RETRIEVE_IMAGING_DOCUMENT_SET_ACTION,
  RETRIEVE_IMAGING_DOCUMENT_SET_RESPONSE_ACTION,
  type DocumentToReturn,
  type ImagingDocumentRequest,
  type RegistryError,
} from '../../../lib/xds/index.ts';
import type { SoapAnswer, SoapExchange } from './soap-endpoint.ts';
import type { XdsContext } from './xds-context.ts';

export function imagingRetrieveErrorAnswer(errors: readonly RegistryError[], ex?: Pick<SoapExchange<unknown>, 'envelope'>): SoapAnswer {
  return { kind: 'mtom', pkg: buildRetrieveResponseMessage(ex?.envelope, [], errors, RETRIEVE_IMAGING_DOCUMENT_SET_RESPONSE_ACTION) };
}

function audit(ctx: XdsContext, ex: SoapExchange<unknown>, requested: readonly ImagingDocumentRequest[], returned: readonly ImagingDocumentRequest[], errors: readonly RegistryError[]): void {
  const studies = new Map<string, string[]>();
  for (const r of returned.length > 0 ? returned : requested) {
    const list = studies.get(r.studyInstanceUid) ?? [];
    list.push(r.documentUniqueId);
    studies.set(r.studyInstanceUid, list);
  }
  if (studies.size === 0) return;
  ctx.audit.emit(() =>
    ctx.audit.events.rad69RetrieveImagingDocumentSet({
      role: 'imaging-source',
      source: ex.endpoint,
      destination: ex.client,
      studies: [...studies.keys()].map((uid) => ({ uid })),
      outcome: errors.length === 0 ? 'success' : returned.length > 0 ? 'minor-failure' : 'serious-failure',
    }),
  );
}

export async function handleRetrieveImagingDocumentSet(ctx: XdsContext, ex: SoapExchange<unknown>): Promise<SoapAnswer> {
  expectAction(ex.envelope, [RETRIEVE_IMAGING_DOCUMENT_SET_ACTION]);
  const parsed = readRetrieveImagingDocumentSetRequest(ex.envelope.payload);
  if (!parsed.ok) return imagingRetrieveErrorAnswer(parsed.errors, ex);
  const requested = imagingDocumentRequests(parsed.request);
  const errors: RegistryError[] = [];
  const documents: DocumentToReturn[] = [];
  const returned: ImagingDocumentRequest[] = [];
  for (const req of requested) {
    const { studyInstanceUid, seriesInstanceUid, ...docRequest } = req;
    if (req.repositoryUniqueId !== ctx.repository.repositoryUniqueId) {
      errors.push(registryError('XDSUnknownRepositoryId', `repository ${req.repositoryUniqueId} is not this Imaging Document Source`, req.documentUniqueId));
      continue;
    }
    const found = await ctx.images.source.findInstance({ studyInstanceUid, seriesInstanceUid, sopInstanceUid: req.documentUniqueId }, parsed.request.transferSyntaxUids);
    if (found.kind === 'not-found') {
      errors.push(registryError('XDSDocumentUniqueIdError', `instance ${req.documentUniqueId} is not in series ${seriesInstanceUid} of study ${studyInstanceUid} here`, req.documentUniqueId));
    } else if (found.kind === 'transfer-syntax-unavailable') {
      errors.push(
        registryError(
          'XDSRepositoryError',
          `instance ${req.documentUniqueId} is stored as ${found.storedTransferSyntaxUid} and cannot be served in ${parsed.request.transferSyntaxUids.join(', ')}`,
          req.documentUniqueId,
        ),
      );
    } else {
      const instance = found.instance;
      documents.push({ ...docRequest, mimeType: DICOM_MIME_TYPE, content: () => instance.open() });
      returned.push(req);
    }
  }
  audit(ctx, ex, requested, returned, errors);
  return { kind: 'mtom', pkg: buildRetrieveResponseMessage(ex.envelope, documents, errors, RETRIEVE_IMAGING_DOCUMENT_SET_RESPONSE_ACTION) };
}
