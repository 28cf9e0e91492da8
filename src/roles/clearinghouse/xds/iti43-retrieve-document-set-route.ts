// ITI-43 Retrieve Document Set at the repository: each stored document goes back as an XOP part,
// streamed from the blob store; an unknown document or another repository's document becomes a
// RegistryError located at its DocumentUniqueId, and the answer is PartialSuccess when some
// documents are returned (A-RET-01..03).
import { expectAction } from '../../../lib/soap/index.ts';
import {
  buildRetrieveResponseMessage,
  readRetrieveDocumentSetRequest,
  registryError,
  RETRIEVE_DOCUMENT_SET_ACTION,
  type DocumentRequest,
  type DocumentToReturn,
  type RegistryError,
} from '../../../lib/xds/index.ts';
import type { SoapAnswer, SoapExchange } from './soap-endpoint.ts';
import type { XdsContext } from './xds-context.ts';

export function retrieveErrorAnswer(errors: readonly RegistryError[], ex?: Pick<SoapExchange<unknown>, 'envelope'>): SoapAnswer {
  return { kind: 'mtom', pkg: buildRetrieveResponseMessage(ex?.envelope, [], errors) };
}

function audit(ctx: XdsContext, ex: SoapExchange<unknown>, requested: readonly DocumentRequest[], returned: number, errors: readonly RegistryError[]): void {
  if (requested.length === 0) return;
  ctx.audit.emit(() =>
    ctx.audit.events.iti43RetrieveDocumentSet({
      role: 'repository',
      source: ex.endpoint,
      destination: ex.client,
      documents: requested.map((d) => ({ uniqueId: d.documentUniqueId, repositoryUniqueId: d.repositoryUniqueId, ...(d.homeCommunityId ? { homeCommunityId: d.homeCommunityId } : {}) })),
      outcome: errors.length === 0 ? 'success' : returned > 0 ? 'minor-failure' : 'serious-failure',
    }),
  );
}

export async function handleRetrieveDocumentSet(ctx: XdsContext, ex: SoapExchange<unknown>): Promise<SoapAnswer> {
  expectAction(ex.envelope, [RETRIEVE_DOCUMENT_SET_ACTION]);
  const parsed = readRetrieveDocumentSetRequest(ex.envelope.payload);
  if (!parsed.ok) return retrieveErrorAnswer(parsed.errors, ex);
  const errors: RegistryError[] = [];
  const documents: DocumentToReturn[] = [];
  for (const req of parsed.request.documents) {
    // A document this repository does not hold is XDSDocumentUniqueIdError whatever repository id it
    // was asked under (the NIST ITI-43 vector); a document it holds, asked under another repository's
    // id, is XDSUnknownRepositoryId (A-RET-03). RAD-69 checks the repository first (NIST gold 4811).
    const row = await ctx.repository.findDocument(req.documentUniqueId);
    if (!row) {
      errors.push(registryError('XDSDocumentUniqueIdError', `document ${req.documentUniqueId} is not in this repository`, req.documentUniqueId));
      continue;
    }
    if (req.repositoryUniqueId !== ctx.repository.repositoryUniqueId) {
      errors.push(registryError('XDSUnknownRepositoryId', `repository ${req.repositoryUniqueId} is not this repository`, req.documentUniqueId));
      continue;
    }
    documents.push({ ...req, mimeType: row.mime_type, content: () => ctx.repository.openDocument(row) });
  }
  audit(ctx, ex, parsed.request.documents, documents.length, errors);
  return { kind: 'mtom', pkg: buildRetrieveResponseMessage(ex.envelope, documents, errors) };
}
