// ITI-42 Register Document Set-b at the registry: the same registration path as the repository's
// ITI-41 (registry-submission.ts); hash, size and repositoryUniqueId must be in the metadata.
import { expectAction } from '../../../lib/soap/index.ts';
import {
  readRegisterRequest,
  REGISTER_ACTION,
  REGISTER_RESPONSE_ACTION,
  writeRegistryResponse,
  XdsError,
  type RegistryError,
  type XdsMetadata,
} from '../../../lib/xds/index.ts';
import { registerSubmission } from './registry-submission.ts';
import type { SoapAnswer, SoapExchange } from './soap-endpoint.ts';
import type { XdsContext } from './xds-context.ts';

function answer(errors: readonly RegistryError[]): SoapAnswer {
  return { kind: 'soap', action: REGISTER_RESPONSE_ACTION, bodyXml: writeRegistryResponse(errors) };
}

function audit(ctx: XdsContext, ex: SoapExchange<unknown>, metadata: XdsMetadata | undefined, errors: readonly RegistryError[]): void {
  const ss = metadata?.submissionSets[0];
  ctx.audit.emit(() =>
    ctx.audit.events.iti42RegisterDocumentSet({
      role: 'registry',
      source: ex.client,
      destination: ex.endpoint,
      patientId: ss?.patientId ?? '',
      submissionSetUid: ss?.uniqueId ?? '',
      outcome: errors.length > 0 ? 'minor-failure' : 'success',
      ...(errors[0] ? { outcomeDescription: `${errors[0].errorCode}: ${errors[0].codeContext}`.slice(0, 200) } : {}),
    }),
  );
}

/** Handles ITI-42 on the registry endpoint. */
export async function handleRegister(ctx: XdsContext, ex: SoapExchange<unknown>): Promise<SoapAnswer> {
  expectAction(ex.envelope, [REGISTER_ACTION]);
  let metadata: XdsMetadata | undefined;
  try {
    const { metadata: m, problems } = readRegisterRequest(ex.envelope.payload);
    metadata = m;
    await registerSubmission({ db: ctx.db, registry: ctx.registry, now: ctx.now }, { transaction: 'ITI-42', metadata: m, problems });
    audit(ctx, ex, metadata, []);
    return answer([]);
  } catch (err) {
    if (err instanceof XdsError) audit(ctx, ex, metadata, err.registryErrors);
    throw err;
  }
}

/** The ITI-42 answer to an XdsError. */
export const registerErrorAnswer = answer;
