// ITI-18 Registry Stored Query (also the ITI-38 body): AdhocQueryRequest parsing with the
// parameter rules of ITI TF-2a 3.18.4.1.2.3 (ihe-protocols.md §5), typed parameter values for
// binding as SQL parameters, and the AdhocQueryResponse writer/reader.
//
// Values stay data: a quoted string is unquoted ('' → ') and returned as one string, whatever
// it contains (`' OR 1=1 --` is just characters of a patient ID), and nothing is ever spliced
// into a query text by this module.
import { attribute, firstChild, type XmlElement } from '../soap/safe-xml.ts';
import { XmlWriter } from '../soap/xml-writer.ts';
import { patientIdProblem } from './hl7-datatypes.ts';
import { readSlots, writeRegistryObjectList, type Slot } from './ebrim.ts';
import { entryUuidsOf, readXdsMetadata, xdsMetadataToEbrim, EMPTY_METADATA, type Code, type MetadataProblem, type XdsMetadata } from './metadata.ts';
import { readRegistryErrorList, registryError, responseStatusFromUrn, statusFor, writeRegistryErrorList, type RegistryError } from './registry-response.ts';
import { isXdsTimestamp } from './timestamps.ts';
import {
  ASSOCIATION_TYPE,
  AVAILABILITY_STATUS,
  DOCUMENT_ENTRY_TYPE,
  QUERY_NS,
  RESPONSE_STATUS,
  RIM_NS,
  RS_NS,
  STORED_QUERY_ID,
  XDS_ACTIONS,
  type ResponseStatus,
  type StoredQueryName,
  type XdsErrorCode,
} from './vocabulary.ts';

export const REGISTRY_STORED_QUERY_ACTION = XDS_ACTIONS.registryStoredQuery;
export const REGISTRY_STORED_QUERY_RESPONSE_ACTION = XDS_ACTIONS.registryStoredQueryResponse;

export type QueryReturnType = 'LeafClass' | 'ObjectRef';

/** A parameter value, typed so that a registry can bind it without re-parsing. */
export type StoredQueryValue =
  | { readonly kind: 'string'; readonly value: string }
  /** OR-list */
  | { readonly kind: 'strings'; readonly values: readonly string[] }
  /** YYYY[MM[DD[hh[mm[ss]]]]] UTC */
  | { readonly kind: 'timestamp'; readonly value: string }
  /** OR-list of codes */
  | { readonly kind: 'codes'; readonly values: readonly Code[] }
  /** AND of OR-lists: one group per Slot of the same name (eventCodeList, confidentialityCode, folder codeList) */
  | { readonly kind: 'codeGroups'; readonly groups: readonly (readonly Code[])[] }
  /** AND of OR-lists of strings (referenceIdList) */
  | { readonly kind: 'stringGroups'; readonly groups: readonly (readonly string[])[] };

/** How a parameter is encoded and checked. */
type ParamKind =
  | 'patientId' // single quoted CX
  | 'string' // single quoted string
  | 'timestamp' // single DTM, quoted or not (CP-ITI-1260)
  | 'stringList'
  | 'codeList'
  | 'codeAndOr'
  | 'stringAndOr'
  | 'statusList' // unknown values ignored (Gazelle ITI18-8)
  | 'entryTypeList' // unknown values ignored (Gazelle ITI18-14)
  | 'associationTypeList';

interface ParamSpec {
  readonly kind: ParamKind;
  readonly required?: boolean;
}

interface QuerySpec {
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Exactly one parameter of each group must be given. */
  readonly oneOf?: readonly (readonly string[])[];
}

/** Parameter names (slot names) of ITI-18. */
export const QUERY_PARAM = {
  documentEntryPatientId: '$XDSDocumentEntryPatientId',
  documentEntryClassCode: '$XDSDocumentEntryClassCode',
  documentEntryTypeCode: '$XDSDocumentEntryTypeCode',
  documentEntryPracticeSettingCode: '$XDSDocumentEntryPracticeSettingCode',
  documentEntryCreationTimeFrom: '$XDSDocumentEntryCreationTimeFrom',
  documentEntryCreationTimeTo: '$XDSDocumentEntryCreationTimeTo',
  documentEntryServiceStartTimeFrom: '$XDSDocumentEntryServiceStartTimeFrom',
  documentEntryServiceStartTimeTo: '$XDSDocumentEntryServiceStartTimeTo',
  documentEntryServiceStopTimeFrom: '$XDSDocumentEntryServiceStopTimeFrom',
  documentEntryServiceStopTimeTo: '$XDSDocumentEntryServiceStopTimeTo',
  documentEntryHealthcareFacilityTypeCode: '$XDSDocumentEntryHealthcareFacilityTypeCode',
  documentEntryEventCodeList: '$XDSDocumentEntryEventCodeList',
  documentEntryConfidentialityCode: '$XDSDocumentEntryConfidentialityCode',
  documentEntryAuthorPerson: '$XDSDocumentEntryAuthorPerson',
  documentEntryFormatCode: '$XDSDocumentEntryFormatCode',
  documentEntryStatus: '$XDSDocumentEntryStatus',
  documentEntryType: '$XDSDocumentEntryType',
  documentEntryReferenceIdList: '$XDSDocumentEntryReferenceIdList',
  documentEntryEntryUUID: '$XDSDocumentEntryEntryUUID',
  documentEntryUniqueId: '$XDSDocumentEntryUniqueId',
  documentEntryLogicalId: '$XDSDocumentEntryLogicalID',
  submissionSetPatientId: '$XDSSubmissionSetPatientId',
  submissionSetSourceId: '$XDSSubmissionSetSourceId',
  submissionSetSubmissionTimeFrom: '$XDSSubmissionSetSubmissionTimeFrom',
  submissionSetSubmissionTimeTo: '$XDSSubmissionSetSubmissionTimeTo',
  submissionSetAuthorPerson: '$XDSSubmissionSetAuthorPerson',
  submissionSetContentType: '$XDSSubmissionSetContentType',
  submissionSetStatus: '$XDSSubmissionSetStatus',
  submissionSetEntryUUID: '$XDSSubmissionSetEntryUUID',
  submissionSetUniqueId: '$XDSSubmissionSetUniqueId',
  folderPatientId: '$XDSFolderPatientId',
  folderLastUpdateTimeFrom: '$XDSFolderLastUpdateTimeFrom',
  folderLastUpdateTimeTo: '$XDSFolderLastUpdateTimeTo',
  folderCodeList: '$XDSFolderCodeList',
  folderStatus: '$XDSFolderStatus',
  folderEntryUUID: '$XDSFolderEntryUUID',
  folderUniqueId: '$XDSFolderUniqueId',
  folderLogicalId: '$XDSFolderLogicalID',
  patientId: '$patientId',
  uuid: '$uuid',
  associationTypes: '$AssociationTypes',
  homeCommunityId: '$homeCommunityId',
} as const;

const P = QUERY_PARAM;

const FIND_DOCUMENTS_PARAMS: Readonly<Record<string, ParamSpec>> = {
  [P.documentEntryPatientId]: { kind: 'patientId', required: true },
  [P.documentEntryClassCode]: { kind: 'codeList' },
  [P.documentEntryTypeCode]: { kind: 'codeList' },
  [P.documentEntryPracticeSettingCode]: { kind: 'codeList' },
  [P.documentEntryCreationTimeFrom]: { kind: 'timestamp' },
  [P.documentEntryCreationTimeTo]: { kind: 'timestamp' },
  [P.documentEntryServiceStartTimeFrom]: { kind: 'timestamp' },
  [P.documentEntryServiceStartTimeTo]: { kind: 'timestamp' },
  [P.documentEntryServiceStopTimeFrom]: { kind: 'timestamp' },
  [P.documentEntryServiceStopTimeTo]: { kind: 'timestamp' },
  [P.documentEntryHealthcareFacilityTypeCode]: { kind: 'codeList' },
  [P.documentEntryEventCodeList]: { kind: 'codeAndOr' },
  [P.documentEntryConfidentialityCode]: { kind: 'codeAndOr' },
  [P.documentEntryAuthorPerson]: { kind: 'stringList' },
  [P.documentEntryFormatCode]: { kind: 'codeList' },
  [P.documentEntryStatus]: { kind: 'statusList', required: true },
  [P.documentEntryType]: { kind: 'entryTypeList' },
};

const CONTENTS_FILTER_PARAMS: Readonly<Record<string, ParamSpec>> = {
  [P.documentEntryFormatCode]: { kind: 'codeList' },
  [P.documentEntryConfidentialityCode]: { kind: 'codeAndOr' },
  [P.documentEntryType]: { kind: 'entryTypeList' },
};

const HOME: Readonly<Record<string, ParamSpec>> = { [P.homeCommunityId]: { kind: 'string' } };

/** Parameter rules per stored query (ITI TF-2a 3.18.4.1.2.3.7; IPF AdhocQueryRequestValidator). */
export const STORED_QUERY_SPECS: Readonly<Record<StoredQueryName, QuerySpec>> = {
  FindDocuments: { params: { ...FIND_DOCUMENTS_PARAMS, ...HOME } },
  FindDocumentsByReferenceId: {
    params: { ...FIND_DOCUMENTS_PARAMS, [P.documentEntryReferenceIdList]: { kind: 'stringAndOr', required: true }, ...HOME },
  },
  FindSubmissionSets: {
    params: {
      [P.submissionSetPatientId]: { kind: 'patientId', required: true },
      [P.submissionSetSourceId]: { kind: 'stringList' },
      [P.submissionSetSubmissionTimeFrom]: { kind: 'timestamp' },
      [P.submissionSetSubmissionTimeTo]: { kind: 'timestamp' },
      [P.submissionSetAuthorPerson]: { kind: 'string' },
      [P.submissionSetContentType]: { kind: 'codeList' },
      [P.submissionSetStatus]: { kind: 'statusList', required: true },
      ...HOME,
    },
  },
  FindFolders: {
    params: {
      [P.folderPatientId]: { kind: 'patientId', required: true },
      [P.folderLastUpdateTimeFrom]: { kind: 'timestamp' },
      [P.folderLastUpdateTimeTo]: { kind: 'timestamp' },
      [P.folderCodeList]: { kind: 'codeAndOr' },
      [P.folderStatus]: { kind: 'statusList', required: true },
      ...HOME,
    },
  },
  GetAll: {
    params: {
      [P.patientId]: { kind: 'patientId', required: true },
      [P.documentEntryStatus]: { kind: 'statusList', required: true },
      [P.submissionSetStatus]: { kind: 'statusList', required: true },
      [P.folderStatus]: { kind: 'statusList', required: true },
      ...CONTENTS_FILTER_PARAMS,
      ...HOME,
    },
  },
  GetDocuments: {
    params: {
      [P.documentEntryEntryUUID]: { kind: 'stringList' },
      [P.documentEntryUniqueId]: { kind: 'stringList' },
      [P.documentEntryLogicalId]: { kind: 'stringList' },
      ...HOME,
    },
    oneOf: [[P.documentEntryEntryUUID, P.documentEntryUniqueId, P.documentEntryLogicalId]],
  },
  GetFolders: {
    params: {
      [P.folderEntryUUID]: { kind: 'stringList' },
      [P.folderUniqueId]: { kind: 'stringList' },
      [P.folderLogicalId]: { kind: 'stringList' },
      ...HOME,
    },
    oneOf: [[P.folderEntryUUID, P.folderUniqueId, P.folderLogicalId]],
  },
  GetAssociations: { params: { [P.uuid]: { kind: 'stringList', required: true }, ...HOME } },
  GetDocumentsAndAssociations: {
    params: { [P.documentEntryEntryUUID]: { kind: 'stringList' }, [P.documentEntryUniqueId]: { kind: 'stringList' }, ...HOME },
    oneOf: [[P.documentEntryEntryUUID, P.documentEntryUniqueId]],
  },
  GetSubmissionSets: { params: { [P.uuid]: { kind: 'stringList', required: true }, ...HOME } },
  GetSubmissionSetAndContents: {
    params: { [P.submissionSetEntryUUID]: { kind: 'string' }, [P.submissionSetUniqueId]: { kind: 'string' }, ...CONTENTS_FILTER_PARAMS, ...HOME },
    oneOf: [[P.submissionSetEntryUUID, P.submissionSetUniqueId]],
  },
  GetFolderAndContents: {
    params: { [P.folderEntryUUID]: { kind: 'string' }, [P.folderUniqueId]: { kind: 'string' }, ...CONTENTS_FILTER_PARAMS, ...HOME },
    oneOf: [[P.folderEntryUUID, P.folderUniqueId]],
  },
  GetFoldersForDocument: {
    params: { [P.documentEntryEntryUUID]: { kind: 'string' }, [P.documentEntryUniqueId]: { kind: 'string' }, ...HOME },
    oneOf: [[P.documentEntryEntryUUID, P.documentEntryUniqueId]],
  },
  GetRelatedDocuments: {
    params: {
      [P.documentEntryEntryUUID]: { kind: 'string' },
      [P.documentEntryUniqueId]: { kind: 'string' },
      [P.associationTypes]: { kind: 'associationTypeList', required: true },
      [P.documentEntryType]: { kind: 'entryTypeList' },
      ...HOME,
    },
    oneOf: [[P.documentEntryEntryUUID, P.documentEntryUniqueId]],
  },
};

const NAME_BY_ID: ReadonlyMap<string, StoredQueryName> = new Map(
  (Object.entries(STORED_QUERY_ID) as Array<[StoredQueryName, string]>).map(([name, id]) => [id, name]),
);

export function storedQueryName(queryId: string): StoredQueryName | undefined {
  return NAME_BY_ID.get(queryId.trim());
}

export interface StoredQuery {
  readonly queryId: string;
  readonly name: StoredQueryName;
  readonly returnType: QueryReturnType;
  readonly returnComposedObjects: boolean;
  /** AdhocQuery@home, else $homeCommunityId. */
  readonly homeCommunityId?: string;
  readonly params: ReadonlyMap<string, StoredQueryValue>;
  /** Parameters not defined for this query (ignored). */
  readonly ignoredParameters: readonly string[];
  /** Values dropped because they are unknown status / document-entry-type values (ignored per TF). */
  readonly ignoredValues: readonly string[];
}

export type StoredQueryParseResult = { readonly ok: true; readonly query: StoredQuery } | { readonly ok: false; readonly errors: readonly RegistryError[] };

class QueryValueError extends Error {
  constructor(
    readonly code: XdsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** `'abc'` → `abc`, with `''` → `'`. Unquoted input is taken as is (IPF and CP-ITI-1260 tolerance). */
export function unquoteQueryString(raw: string): string {
  const v = raw.trim();
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/''/g, "'");
  return v;
}

/** `('a', 'b')` → ['a', 'b']. Quotes are required inside the list; `''` escapes a quote; commas inside quotes are data. */
export function parseQueryList(raw: string): string[] {
  const s = raw.trim();
  if (!s.startsWith('(')) {
    // Tolerated: a single quoted value without parentheses.
    if (s.startsWith("'") && s.endsWith("'") && s.length >= 2) return [unquoteQueryString(s)];
    throw new QueryValueError('XDSRegistryError', `'${s.slice(0, 60)}' is not a list of the form ('a','b')`);
  }
  if (!s.endsWith(')')) throw new QueryValueError('XDSRegistryError', `unterminated list '${s.slice(0, 60)}'`);
  const out: string[] = [];
  let i = 1;
  const end = s.length - 1;
  const skipSpace = (): void => {
    while (i < end && /\s/.test(s.charAt(i))) i++;
  };
  skipSpace();
  if (i === end) throw new QueryValueError('XDSRegistryError', 'empty list ()');
  for (;;) {
    skipSpace();
    if (s.charAt(i) !== "'") throw new QueryValueError('XDSRegistryError', `list element at position ${i} of '${s.slice(0, 60)}' is not a quoted string`);
    i++;
    let value = '';
    for (;;) {
      if (i >= end) throw new QueryValueError('XDSRegistryError', `unterminated quoted string in '${s.slice(0, 60)}'`);
      const c = s.charAt(i);
      if (c === "'") {
        if (s.charAt(i + 1) === "'") {
          value += "'";
          i += 2;
          continue;
        }
        i++;
        break;
      }
      value += c;
      i++;
    }
    out.push(value);
    skipSpace();
    if (i === end) return out;
    if (s.charAt(i) !== ',') throw new QueryValueError('XDSRegistryError', `expected ',' at position ${i} of '${s.slice(0, 60)}'`);
    i++;
  }
}

/** `code^^scheme` (HL7 CE with empty text) → Code; both parts are required (A-SQ-05). */
export function parseQueryCode(value: string): Code {
  const parts = value.split('^');
  const code = parts[0] ?? '';
  const scheme = parts[2] ?? '';
  if (code === '' || scheme === '' || parts.length > 3) {
    throw new QueryValueError('XDSRegistryError', `code '${value.slice(0, 60)}' must have the form code^^codingScheme`);
  }
  return { code, scheme };
}

const KNOWN_STATUS: ReadonlySet<string> = new Set(Object.values(AVAILABILITY_STATUS));
const KNOWN_ENTRY_TYPES: ReadonlySet<string> = new Set(Object.values(DOCUMENT_ENTRY_TYPE));
const KNOWN_ASSOCIATION_TYPES: ReadonlySet<string> = new Set(Object.values(ASSOCIATION_TYPE));

function listOfValues(values: readonly string[]): string[] {
  // Several Value elements in one Slot are one OR-list (TF: a long list may be split).
  return values.flatMap((v) => parseQueryList(v));
}

function parseParameter(name: string, spec: ParamSpec, slots: readonly Slot[], ignoredValues: string[]): StoredQueryValue {
  const multiSlot = spec.kind === 'codeAndOr' || spec.kind === 'stringAndOr';
  if (slots.length > 1 && !multiSlot) throw new QueryValueError('XDSStoredQueryParamNumber', `parameter ${name} is given ${slots.length} times`);
  const first = slots[0] as Slot;
  if (first.values.length === 0) throw new QueryValueError('XDSStoredQueryParamNumber', `parameter ${name} has no value`);
  switch (spec.kind) {
    case 'patientId':
    case 'string': {
      if (first.values.length !== 1) throw new QueryValueError('XDSStoredQueryParamNumber', `parameter ${name} takes a single value, got ${first.values.length}`);
      const raw = (first.values[0] as string).trim();
      let value: string;
      if (raw.startsWith('(')) {
        const list = parseQueryList(raw);
        if (list.length !== 1) throw new QueryValueError('XDSStoredQueryParamNumber', `parameter ${name} takes a single value, got a list of ${list.length}`);
        value = list[0] as string;
      } else {
        value = unquoteQueryString(raw);
      }
      if (value === '') throw new QueryValueError('XDSRegistryError', `parameter ${name} is empty`);
      if (spec.kind === 'patientId') {
        const problem = patientIdProblem(value);
        if (problem) throw new QueryValueError('XDSRegistryError', `parameter ${name} is not a valid patient ID: ${problem}`);
      }
      return { kind: 'string', value };
    }
    case 'timestamp': {
      if (first.values.length !== 1) throw new QueryValueError('XDSStoredQueryParamNumber', `parameter ${name} takes a single value, got ${first.values.length}`);
      const value = unquoteQueryString(first.values[0] as string);
      if (!isXdsTimestamp(value)) throw new QueryValueError('XDSRegistryError', `parameter ${name} '${value.slice(0, 30)}' is not a timestamp YYYY[MM[DD[hh[mm[ss]]]]]`);
      return { kind: 'timestamp', value };
    }
    case 'stringList':
      return { kind: 'strings', values: listOfValues(first.values) };
    case 'associationTypeList': {
      const values = listOfValues(first.values);
      const unknown = values.filter((v) => !KNOWN_ASSOCIATION_TYPES.has(v));
      if (unknown.length > 0) throw new QueryValueError('XDSRegistryError', `parameter ${name}: unknown association type '${(unknown[0] as string).slice(0, 80)}'`);
      return { kind: 'strings', values };
    }
    case 'statusList':
    case 'entryTypeList': {
      const known = spec.kind === 'statusList' ? KNOWN_STATUS : KNOWN_ENTRY_TYPES;
      const values = listOfValues(first.values);
      for (const v of values) if (!known.has(v)) ignoredValues.push(v);
      return { kind: 'strings', values: values.filter((v) => known.has(v)) };
    }
    case 'codeList':
      return { kind: 'codes', values: listOfValues(first.values).map(parseQueryCode) };
    case 'codeAndOr':
      return { kind: 'codeGroups', groups: slots.map((s) => listOfValues(s.values).map(parseQueryCode)) };
    case 'stringAndOr':
      return { kind: 'stringGroups', groups: slots.map((s) => listOfValues(s.values)) };
  }
}

/**
 * Parses and validates a query:AdhocQueryRequest (the SOAP Body payload). Returns every error
 * found (XDSUnknownStoredQuery, XDSStoredQueryMissingParam, XDSStoredQueryParamNumber,
 * XDSRegistryError for malformed values) or the typed query.
 */
export function readStoredQueryRequest(payload: XmlElement | undefined): StoredQueryParseResult {
  const fail = (code: XdsErrorCode, message: string, location?: string): StoredQueryParseResult => ({ ok: false, errors: [registryError(code, message, location)] });
  if (!payload || payload.ns !== QUERY_NS || payload.local !== 'AdhocQueryRequest') {
    return fail('XDSRegistryError', `expected query:AdhocQueryRequest, got ${payload ? `{${payload.ns}}${payload.local}` : 'an empty Body'}`);
  }
  const option = firstChild(payload, QUERY_NS, 'ResponseOption');
  const returnType = option ? (attribute(option, 'returnType') ?? 'RegistryObject').trim() : undefined;
  if (returnType !== 'LeafClass' && returnType !== 'ObjectRef') {
    return fail('XDSRegistryError', `returnType must be LeafClass or ObjectRef, got '${(returnType ?? 'no ResponseOption').slice(0, 40)}'`);
  }
  const returnComposedObjects = option ? (attribute(option, 'returnComposedObjects') ?? 'false').trim() === 'true' : false;
  const adhoc = firstChild(payload, RIM_NS, 'AdhocQuery');
  if (!adhoc) return fail('XDSRegistryError', 'AdhocQueryRequest has no rim:AdhocQuery');
  const queryId = (attribute(adhoc, 'id') ?? '').trim();
  const name = storedQueryName(queryId);
  if (!name) return fail('XDSUnknownStoredQuery', `unknown stored query id '${queryId.slice(0, 80)}'`, queryId);
  const spec = STORED_QUERY_SPECS[name];

  const slotsByName = new Map<string, Slot[]>();
  for (const s of readSlots(adhoc)) {
    const list = slotsByName.get(s.name) ?? [];
    list.push(s);
    slotsByName.set(s.name, list);
  }
  const errors: RegistryError[] = [];
  const params = new Map<string, StoredQueryValue>();
  const ignoredParameters: string[] = [];
  const ignoredValues: string[] = [];
  for (const [slotName, slots] of slotsByName) {
    const paramSpec = spec.params[slotName];
    if (!paramSpec) {
      ignoredParameters.push(slotName);
      continue;
    }
    try {
      params.set(slotName, parseParameter(slotName, paramSpec, slots, ignoredValues));
    } catch (err) {
      if (!(err instanceof QueryValueError)) throw err;
      errors.push(registryError(err.code, err.message, slotName));
    }
  }
  for (const [paramName, paramSpec] of Object.entries(spec.params)) {
    if (paramSpec.required && !slotsByName.has(paramName)) {
      errors.push(registryError('XDSStoredQueryMissingParam', `required parameter ${paramName} is missing for ${name}`, paramName));
    }
  }
  for (const group of spec.oneOf ?? []) {
    const given = group.filter((g) => slotsByName.has(g));
    if (given.length === 0) errors.push(registryError('XDSStoredQueryMissingParam', `${name} needs one of ${group.join(', ')}`, group.join('|')));
    else if (given.length > 1) errors.push(registryError('XDSStoredQueryParamNumber', `${name} takes only one of ${given.join(', ')}`, given.join('|')));
  }
  if (errors.length > 0) return { ok: false, errors };
  const homeParam = params.get(P.homeCommunityId);
  const home = attribute(adhoc, 'home')?.trim() || (homeParam?.kind === 'string' ? homeParam.value : undefined);
  const query: StoredQuery = {
    queryId,
    name,
    returnType,
    returnComposedObjects,
    ...(home ? { homeCommunityId: home } : {}),
    params,
    ignoredParameters,
    ignoredValues,
  };
  return { ok: true, query };
}

// Typed accessors --------------------------------------------------------------------------------

export function queryString(q: StoredQuery, name: string): string | undefined {
  const v = q.params.get(name);
  return v?.kind === 'string' ? v.value : undefined;
}

export function queryStrings(q: StoredQuery, name: string): readonly string[] | undefined {
  const v = q.params.get(name);
  if (v?.kind === 'strings') return v.values;
  if (v?.kind === 'string') return [v.value];
  return undefined;
}

export function queryTimestamp(q: StoredQuery, name: string): string | undefined {
  const v = q.params.get(name);
  return v?.kind === 'timestamp' ? v.value : undefined;
}

/** Codes as AND-of-OR groups (a plain code list is one group). */
export function queryCodeGroups(q: StoredQuery, name: string): readonly (readonly Code[])[] | undefined {
  const v = q.params.get(name);
  if (v?.kind === 'codes') return [v.values];
  if (v?.kind === 'codeGroups') return v.groups;
  return undefined;
}

export function queryStringGroups(q: StoredQuery, name: string): readonly (readonly string[])[] | undefined {
  const v = q.params.get(name);
  if (v?.kind === 'stringGroups') return v.groups;
  if (v?.kind === 'strings') return [v.values];
  return undefined;
}

// Writing the request (consumer side) ----------------------------------------------------------------

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function listText(values: readonly string[]): string {
  return `(${values.map(quote).join(',')})`;
}

function codeText(c: Code): string {
  return `${c.code}^^${c.scheme}`;
}

export interface StoredQueryToWrite {
  readonly name: StoredQueryName;
  readonly returnType?: QueryReturnType;
  readonly homeCommunityId?: string;
  readonly params: Readonly<Record<string, StoredQueryValue>>;
}

/** query:AdhocQueryRequest XML for ITI-18 / ITI-38. */
export function writeStoredQueryRequest(q: StoredQueryToWrite): string {
  const w = new XmlWriter();
  w.start('query:AdhocQueryRequest', { 'xmlns:query': QUERY_NS, 'xmlns:rim': RIM_NS });
  w.leaf('query:ResponseOption', { returnComposedObjects: 'true', returnType: q.returnType ?? 'LeafClass' });
  w.start('rim:AdhocQuery', { id: STORED_QUERY_ID[q.name], home: q.homeCommunityId });
  const slotOut = (name: string, values: readonly string[]): void => {
    w.start('rim:Slot', { name }).start('rim:ValueList');
    for (const v of values) w.leaf('rim:Value', undefined, v);
    w.end().end();
  };
  for (const [name, v] of Object.entries(q.params)) {
    switch (v.kind) {
      case 'string':
        slotOut(name, [quote(v.value)]);
        break;
      case 'timestamp':
        slotOut(name, [v.value]);
        break;
      case 'strings':
        slotOut(name, [listText(v.values)]);
        break;
      case 'codes':
        slotOut(name, [listText(v.values.map(codeText))]);
        break;
      case 'codeGroups':
        for (const g of v.groups) slotOut(name, [listText(g.map(codeText))]);
        break;
      case 'stringGroups':
        for (const g of v.groups) slotOut(name, [listText(g)]);
        break;
    }
  }
  w.end().end();
  return w.toString();
}

// Response ----------------------------------------------------------------------------------------

export interface StoredQueryResponseToWrite {
  readonly returnType: QueryReturnType;
  readonly metadata?: XdsMetadata;
  readonly errors?: readonly RegistryError[];
  /** Defaults to Success / PartialSuccess (errors and results) / Failure (errors, no results). */
  readonly status?: ResponseStatus;
}

/** query:AdhocQueryResponse XML: full objects (LeafClass) or rim:ObjectRef only (ObjectRef). */
export function writeStoredQueryResponse(r: StoredQueryResponseToWrite): string {
  const metadata = r.metadata ?? EMPTY_METADATA;
  const errors = r.errors ?? [];
  const ids = entryUuidsOf(metadata);
  const status = r.status ?? statusFor(errors, ids.length > 0);
  const w = new XmlWriter();
  w.start('query:AdhocQueryResponse', { 'xmlns:query': QUERY_NS, 'xmlns:rim': RIM_NS, 'xmlns:rs': RS_NS, status: RESPONSE_STATUS[status] });
  // ebRS: RegistryErrorList precedes RegistryObjectList.
  writeRegistryErrorList(w, errors);
  if (r.returnType === 'ObjectRef') {
    writeRegistryObjectList(w, ids.map((id) => ({ kind: 'ObjectRef' as const, id })), false);
  } else {
    writeRegistryObjectList(w, xdsMetadataToEbrim(metadata), false);
  }
  w.end();
  return w.toString();
}

export interface ReadStoredQueryResponse {
  readonly status: ResponseStatus | undefined;
  readonly errors: readonly RegistryError[];
  readonly metadata: XdsMetadata;
  readonly problems: readonly MetadataProblem[];
}

/** Reads a query:AdhocQueryResponse (ITI-18 / ITI-38 consumer side). */
export function readStoredQueryResponse(payload: XmlElement | undefined): ReadStoredQueryResponse {
  if (!payload || payload.ns !== QUERY_NS || payload.local !== 'AdhocQueryResponse') {
    return {
      status: undefined,
      errors: [registryError('XDSRegistryError', 'response body is not a query:AdhocQueryResponse')],
      metadata: EMPTY_METADATA,
      problems: [],
    };
  }
  const list = firstChild(payload, RIM_NS, 'RegistryObjectList');
  const { metadata, problems } = list ? readXdsMetadata(list) : { metadata: EMPTY_METADATA, problems: [] };
  return { status: responseStatusFromUrn(attribute(payload, 'status')), errors: readRegistryErrorList(payload), metadata, problems };
}

/**
 * A-SQ-07 / NIST 12368: a LeafClass result spanning several patients is refused with
 * XDSResultNotSinglePatient (ObjectRef results are not restricted).
 */
export function checkSinglePatient(metadata: XdsMetadata, returnType: QueryReturnType): RegistryError | undefined {
  if (returnType !== 'LeafClass') return undefined;
  const patients = new Set([...metadata.documentEntries, ...metadata.submissionSets, ...metadata.folders].map((e) => e.patientId));
  return patients.size > 1 ? registryError('XDSResultNotSinglePatient', `the result holds entries of ${patients.size} patients`) : undefined;
}

/** Raw slot texts of an AdhocQuery (diagnostics, audit: ParticipantObjectQuery). */
export function adhocQuerySlots(payload: XmlElement): Slot[] {
  const adhoc = firstChild(payload, RIM_NS, 'AdhocQuery');
  return adhoc ? readSlots(adhoc) : [];
}

