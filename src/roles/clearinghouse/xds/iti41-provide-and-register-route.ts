// ITI-41 Provide and Register Document Set-b and RAD-68 Provide and Register Imaging Document Set
// (same wire format and action) at the repository: documents stream into the blob store, the
// repository fills hash / size / repositoryUniqueId, and the submission is registered in the same
// process through the ITI-42 code path. A KOS manifest whose images stay at another Imaging Document
// Source is accepted as it is (its Retrieve Location UID is not checked against ours).
import { expectAction } from '../../../lib/soap/index.ts';
import {
  isImagingManifest,
  PROVIDE_AND_REGISTER_ACTION,
  PROVIDE_AND_REGISTER_RESPONSE_ACTION,
  readProvideAndRegisterRequest,
  writeRegistryResponse,
  XdsError,
  type RegistryError,
  type XdsMetadata,
} from '../../../lib/xds/index.ts';
import type { SoapAnswer, SoapExchange } from './soap-endpoint.ts';
import { registerSubmission } from './registry-submission.ts';
import type { StoredAttachment } from './repository-store.ts';
import type { XdsContext } from './xds-context.ts';

function answer(errors: readonly RegistryError[]): SoapAnswer {
  return { kind: 'soap', action: PROVIDE_AND_REGISTER_RESPONSE_ACTION, bodyXml: writeRegistryResponse(errors) };
}

function audit(ctx: XdsContext, ex: SoapExchange<StoredAttachment>, metadata: XdsMetadata | undefined, errors: readonly RegistryError[]): void {
  const ss = metadata?.submissionSets[0];
  const imaging = metadata?.documentEntries.some((de) => isImagingManifest(de)) ?? false;
  const input = {
    source: ex.client,
    destination: ex.endpoint,
    patientId: ss?.patientId ?? '',
    submissionSetUid: ss?.uniqueId ?? '',
    documents: (metadata?.documentEntries ?? []).map((de) => ({ uniqueId: de.uniqueId, repositoryUniqueId: ctx.repository.repositoryUniqueId })),
    outcome: errors.length > 0 ? ('minor-failure' as const) : ('success' as const),
    ...(errors[0] ? { outcomeDescription: `${errors[0].errorCode}: ${errors[0].codeContext}`.slice(0, 200) } : {}),
  };
  ctx.audit.emit(() =>
    imaging
      ? ctx.audit.events.rad68ProvideAndRegisterImaging({ ...input, role: 'repository' })
      : ctx.audit.events.iti41ProvideAndRegister({ ...input, role: 'repository' }),
  );
}

/** The ITI-41 answer to an XdsError (a RegistryResponse with its errors). */
export const provideAndRegisterErrorAnswer = answer;

/** Handles ITI-41 / RAD-68; the exchange was read with the repository's blob sink. */
export async function handleProvideAndRegister(ctx: XdsContext, ex: SoapExchange<StoredAttachment>): Promise<SoapAnswer> {
  expectAction(ex.envelope, [PROVIDE_AND_REGISTER_ACTION]);
  let metadata: XdsMetadata | undefined;
  try {
    const pnr = readProvideAndRegisterRequest(ex.message);
    metadata = pnr.metadata;
    const documents = new Map<string, StoredAttachment>([...pnr.documents].map(([id, d]) => [id, d.binary.ref]));
    await registerSubmission(
      { db: ctx.db, registry: ctx.registry, repository: ctx.repository, now: ctx.now },
      { transaction: 'ITI-41', metadata: pnr.metadata, problems: pnr.problems, documents },
    );
    // MIME parts that no xdsb:Document references were stored by the reader but are kept by nobody.
    const unreferenced = ex.message.unreferencedAttachments.map((a) => a.ref);
    if (unreferenced.length > 0) await ctx.repository.release(unreferenced);
    audit(ctx, ex, metadata, []);
    return answer([]);
  } catch (err) {
    if (err instanceof XdsError) audit(ctx, ex, metadata, err.registryErrors);
    throw err;
  }
}
