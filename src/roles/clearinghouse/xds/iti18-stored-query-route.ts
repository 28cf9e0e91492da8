// ITI-18 Registry Stored Query at the registry: parameters validated by lib/xds, executed on the
// registry tables (stored-queries.ts), answered as LeafClass or ObjectRef. A LeafClass answer that
// would span several patients is refused (XDSResultNotSinglePatient, NIST 12368).
import { expectAction } from '../../../lib/soap/index.ts';
import {
  checkSinglePatient,
  QUERY_PARAM,
  queryString,
  readStoredQueryRequest,
  REGISTRY_STORED_QUERY_ACTION,
  REGISTRY_STORED_QUERY_RESPONSE_ACTION,
  writeStoredQueryResponse,
  XdsError,
  type QueryReturnType,
  type RegistryError,
  type StoredQuery,
} from '../../../lib/xds/index.ts';
import type { SoapAnswer, SoapExchange } from './soap-endpoint.ts';
import { executeStoredQuery } from './stored-queries.ts';
import type { XdsContext } from './xds-context.ts';
import { elementToXml } from './xml-text.ts';

export function storedQueryErrorAnswer(errors: readonly RegistryError[], returnType: QueryReturnType = 'LeafClass'): SoapAnswer {
  return { kind: 'soap', action: REGISTRY_STORED_QUERY_RESPONSE_ACTION, bodyXml: writeStoredQueryResponse({ returnType, errors }) };
}

function patientOf(q: StoredQuery | undefined): string | undefined {
  if (!q) return undefined;
  for (const p of [QUERY_PARAM.documentEntryPatientId, QUERY_PARAM.submissionSetPatientId, QUERY_PARAM.folderPatientId, QUERY_PARAM.patientId]) {
    const v = queryString(q, p);
    if (v !== undefined) return v;
  }
  return undefined;
}

function audit(ctx: XdsContext, ex: SoapExchange<unknown>, queryId: string, q: StoredQuery | undefined, errors: readonly RegistryError[]): void {
  const payload = ex.envelope.payload;
  const patientId = patientOf(q);
  ctx.audit.emit(() =>
    ctx.audit.events.iti18RegistryStoredQuery({
      role: 'registry',
      source: ex.client,
      destination: ex.endpoint,
      queryId,
      queryRequest: payload ? elementToXml(payload) : '',
      ...(q?.homeCommunityId ? { homeCommunityId: q.homeCommunityId } : {}),
      ...(patientId ? { patientId } : {}),
      outcome: errors.some((e) => e.severity === 'Error') ? 'minor-failure' : 'success',
    }),
  );
}

function queryIdOf(ex: SoapExchange<unknown>): string {
  const adhoc = ex.envelope.payload?.children.find((c) => typeof c !== 'string' && c.local === 'AdhocQuery');
  const id = adhoc && typeof adhoc !== 'string' ? adhoc.attributes.find((a) => a.local === 'id' && a.ns === '')?.value : undefined;
  return id ?? '';
}

export async function handleStoredQuery(ctx: XdsContext, ex: SoapExchange<unknown>): Promise<SoapAnswer> {
  expectAction(ex.envelope, [REGISTRY_STORED_QUERY_ACTION]);
  const parsed = readStoredQueryRequest(ex.envelope.payload);
  if (!parsed.ok) {
    audit(ctx, ex, queryIdOf(ex), undefined, parsed.errors);
    return storedQueryErrorAnswer(parsed.errors);
  }
  const q = parsed.query;
  try {
    const metadata = await executeStoredQuery(ctx.db, q);
    const notSingle = checkSinglePatient(metadata, q.returnType);
    if (notSingle) throw new XdsError(notSingle);
    audit(ctx, ex, q.queryId, q, []);
    return { kind: 'soap', action: REGISTRY_STORED_QUERY_RESPONSE_ACTION, bodyXml: writeStoredQueryResponse({ returnType: q.returnType, metadata }) };
  } catch (err) {
    if (err instanceof XdsError) {
      audit(ctx, ex, q.queryId, q, err.registryErrors);
      return storedQueryErrorAnswer(err.registryErrors, q.returnType);
    }
    throw err;
  }
}
