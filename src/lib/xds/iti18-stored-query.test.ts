import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { parseSoapEnvelope } from '../soap/envelope.ts';
import { childElements, firstChild, parseXml, parseXmlText, type XmlElement } from '../soap/safe-xml.ts';
import {
  checkSinglePatient,
  parseQueryList,
  queryCodeGroups,
  queryString,
  queryStrings,
  queryStringGroups,
  queryTimestamp,
  QUERY_PARAM,
  readStoredQueryRequest,
  readStoredQueryResponse,
  STORED_QUERY_SPECS,
  writeStoredQueryRequest,
  writeStoredQueryResponse,
  type StoredQuery,
  type StoredQueryParseResult,
} from './iti18-stored-query.ts';
import type { RegistryError } from './registry-response.ts';
import { fullDocumentEntry, PATIENT, validSubmission } from './test-fixtures.ts';
import { AVAILABILITY_STATUS, DOCUMENT_ENTRY_TYPE, QUERY_NS, RIM_NS, STORED_QUERY_ID, type StoredQueryName } from './vocabulary.ts';

const shared = { skip: requireTools({ shared: true }) };
const sample = (name: string): Buffer => readFileSync(join(samplesDir, name));
const APPROVED = `('${AVAILABILITY_STATUS.approved}')`;
const PID = `'${PATIENT}'`;

function request(queryId: string, slots: Array<[string, ...string[]]>, returnType = 'LeafClass'): XmlElement {
  const slotXml = slots.map(([name, ...values]) => `<rim:Slot name="${name}"><rim:ValueList>${values.map((v) => `<rim:Value>${v.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`).join('');
  return parseXmlText(
    `<query:AdhocQueryRequest xmlns:query="${QUERY_NS}" xmlns:rim="${RIM_NS}"><query:ResponseOption returnComposedObjects="true" returnType="${returnType}"/>` +
      `<rim:AdhocQuery id="${queryId}">${slotXml}</rim:AdhocQuery></query:AdhocQueryRequest>`,
  );
}

function ok(result: StoredQueryParseResult): StoredQuery {
  assert.ok(result.ok, `expected a valid query, got ${JSON.stringify(result.ok ? '' : result.errors)}`);
  return result.query;
}
function errorsOf(result: StoredQueryParseResult): readonly RegistryError[] {
  assert.ok(!result.ok, 'expected the query to be refused');
  return result.errors;
}
const codes = (r: StoredQueryParseResult): string[] => errorsOf(r).map((e) => e.errorCode);

test('NIST FindDocuments request parses into typed parameters', shared, () => {
  const env = parseSoapEnvelope(sample('nist-iti18-finddocuments.soap.xml'));
  const q = ok(readStoredQueryRequest(env.payload));
  assert.equal(q.name, 'FindDocuments');
  assert.equal(q.returnType, 'LeafClass');
  assert.equal(q.returnComposedObjects, true);
  assert.equal(queryString(q, QUERY_PARAM.documentEntryPatientId), 'c4d77e21d0dd487^^^&1.3.6.1.4.1.21367.2005.3.7&ISO');
  assert.deepEqual(queryStrings(q, QUERY_PARAM.documentEntryStatus), [AVAILABILITY_STATUS.approved]);
  assert.deepEqual(queryCodeGroups(q, QUERY_PARAM.documentEntryClassCode), [[{ code: 'value', scheme: 'scheme' }]]);
  assert.deepEqual(q.ignoredParameters, []);
});

test('A-SQ-03: FindDocuments without $XDSDocumentEntryStatus → XDSStoredQueryMissingParam (NIST INVALID sample)', shared, () => {
  const result = readStoredQueryRequest(parseXml(sample('nist-iti18-finddocuments-INVALID-missing-status.xml')).root);
  assert.deepEqual(codes(result), ['XDSStoredQueryMissingParam']);
  assert.equal(errorsOf(result)[0]?.location, '$XDSDocumentEntryStatus');
});

test('A-SQ-04: an unknown AdhocQuery id → XDSUnknownStoredQuery', () => {
  assert.deepEqual(codes(readStoredQueryRequest(request('urn:uuid:00000000-0000-0000-0000-000000000000', []))), ['XDSUnknownStoredQuery']);
});

test('A-SQ-05: a classCode without scheme (value^^) → Failure', () => {
  const r = readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [
    ['$XDSDocumentEntryPatientId', PID],
    ['$XDSDocumentEntryStatus', APPROVED],
    ['$XDSDocumentEntryClassCode', "('value^^')"],
  ]));
  assert.deepEqual(codes(r), ['XDSRegistryError']);
  assert.equal(errorsOf(r)[0]?.location, '$XDSDocumentEntryClassCode');
});

test('A-SQ-08: an injection payload in the patient ID is one plain string value', () => {
  const evil = `'x'' OR 1=1 --^^^&1.2.3&ISO'`;
  const q = ok(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', evil], ['$XDSDocumentEntryStatus', APPROVED]])));
  assert.equal(queryString(q, QUERY_PARAM.documentEntryPatientId), "x' OR 1=1 --^^^&1.2.3&ISO");
  const unbalanced = ok(readStoredQueryRequest(request(STORED_QUERY_ID.FindSubmissionSets, [['$XDSSubmissionSetPatientId', PID], ['$XDSSubmissionSetStatus', APPROVED], ['$XDSSubmissionSetAuthorPerson', "'Smith' OR '1'='1'"]])));
  assert.equal(queryString(unbalanced, QUERY_PARAM.submissionSetAuthorPerson), "Smith' OR '1'='1", 'one value, quotes inside are characters');
  const listEvil = ok(readStoredQueryRequest(request(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryUniqueId', "('1.2.3'') OR (''1''=''1', '4,5')"]])));
  assert.deepEqual(queryStrings(listEvil, QUERY_PARAM.documentEntryUniqueId), ["1.2.3') OR ('1'='1", '4,5']);
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryUniqueId', "('1.2.3') OR 1=1 --"]]))), ['XDSRegistryError']);
});

test('A-SQ-09: quoted and unquoted timestamps in From/To parameters are both accepted', () => {
  const q = ok(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [
    ['$XDSDocumentEntryPatientId', PID],
    ['$XDSDocumentEntryStatus', APPROVED],
    ['$XDSDocumentEntryCreationTimeFrom', '20040101'],
    ['$XDSDocumentEntryCreationTimeTo', "'200412312359'"],
  ])));
  assert.equal(queryTimestamp(q, QUERY_PARAM.documentEntryCreationTimeFrom), '20040101');
  assert.equal(queryTimestamp(q, QUERY_PARAM.documentEntryCreationTimeTo), '200412312359');
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', PID], ['$XDSDocumentEntryStatus', APPROVED], ['$XDSDocumentEntryCreationTimeFrom', '2004-01-01']]))), ['XDSRegistryError']);
});

test('AND/OR semantics: several slots are AND, values inside one slot (even over several Value elements) are OR', () => {
  const q = ok(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [
    ['$XDSDocumentEntryPatientId', PID],
    ['$XDSDocumentEntryStatus', `('${AVAILABILITY_STATUS.approved}')`, `('${AVAILABILITY_STATUS.deprecated}')`],
    ['$XDSDocumentEntryEventCodeList', "('CT^^DCM','MR^^DCM')"],
    ['$XDSDocumentEntryEventCodeList', "('T-32000^^SRT')"],
    ['$XDSDocumentEntryConfidentialityCode', "('N^^2.16.840.1.113883.5.25')"],
    ['$XDSDocumentEntryAuthorPerson', "('%Welby%', '^Smitty%')"],
    ['$XDSDocumentEntryType', `('${DOCUMENT_ENTRY_TYPE.stable}', 'urn:uuid:not-a-type')`],
  ])));
  assert.deepEqual(queryStrings(q, QUERY_PARAM.documentEntryStatus), [AVAILABILITY_STATUS.approved, AVAILABILITY_STATUS.deprecated]);
  assert.deepEqual(queryCodeGroups(q, QUERY_PARAM.documentEntryEventCodeList), [
    [{ code: 'CT', scheme: 'DCM' }, { code: 'MR', scheme: 'DCM' }],
    [{ code: 'T-32000', scheme: 'SRT' }],
  ]);
  assert.deepEqual(queryStrings(q, QUERY_PARAM.documentEntryAuthorPerson), ['%Welby%', '^Smitty%']);
  assert.deepEqual(queryStrings(q, QUERY_PARAM.documentEntryType), [DOCUMENT_ENTRY_TYPE.stable]);
  assert.deepEqual(q.ignoredValues, ['urn:uuid:not-a-type'], 'unknown entry types are ignored (Gazelle ITI18-14)');
  // AND/OR is only for the parameters that allow it.
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', PID], ['$XDSDocumentEntryStatus', APPROVED], ['$XDSDocumentEntryClassCode', "('a^^b')"], ['$XDSDocumentEntryClassCode', "('c^^d')"]]))), ['XDSStoredQueryParamNumber']);
});

test('single-valued parameters given twice, or as a list, → XDSStoredQueryParamNumber', () => {
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', PID, PID], ['$XDSDocumentEntryStatus', APPROVED]]))), ['XDSStoredQueryParamNumber']);
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', PID], ['$XDSDocumentEntryPatientId', PID], ['$XDSDocumentEntryStatus', APPROVED]]))), ['XDSStoredQueryParamNumber']);
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.GetSubmissionSetAndContents, [['$XDSSubmissionSetUniqueId', "('1.2','1.3')"]]))), ['XDSStoredQueryParamNumber']);
  assert.equal(queryString(ok(readStoredQueryRequest(request(STORED_QUERY_ID.GetSubmissionSetAndContents, [['$XDSSubmissionSetUniqueId', "('1.2')"]]))), QUERY_PARAM.submissionSetUniqueId), '1.2');
});

test('one-of parameters: none → XDSStoredQueryMissingParam, both → XDSStoredQueryParamNumber', () => {
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.GetDocuments, []))), ['XDSStoredQueryMissingParam']);
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryEntryUUID', "('urn:uuid:1')"], ['$XDSDocumentEntryUniqueId', "('1.2')"]]))), ['XDSStoredQueryParamNumber']);
});

test('patient ID parameters must be valid XDS CX values; returnType must be LeafClass or ObjectRef', () => {
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', "'123^^^NS'"], ['$XDSDocumentEntryStatus', APPROVED]]))), ['XDSRegistryError']);
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.GetAssociations, [['$uuid', "('urn:uuid:1')"]], 'LeafClassWithRepositoryItem'))), ['XDSRegistryError']);
  assert.deepEqual(codes(readStoredQueryRequest(parseXmlText('<x xmlns="urn:x"/>'))), ['XDSRegistryError']);
});

test('every stored query of ITI-18 is recognised, with its required parameters', () => {
  const minimal: Record<StoredQueryName, Array<[string, ...string[]]>> = {
    FindDocuments: [['$XDSDocumentEntryPatientId', PID], ['$XDSDocumentEntryStatus', APPROVED]],
    FindDocumentsByReferenceId: [['$XDSDocumentEntryPatientId', PID], ['$XDSDocumentEntryStatus', APPROVED], ['$XDSDocumentEntryReferenceIdList', "('ACC1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession')"]],
    FindSubmissionSets: [['$XDSSubmissionSetPatientId', PID], ['$XDSSubmissionSetStatus', APPROVED], ['$XDSSubmissionSetAuthorPerson', "'%Edge%'"]],
    FindFolders: [['$XDSFolderPatientId', PID], ['$XDSFolderStatus', APPROVED], ['$XDSFolderCodeList', "('a^^b')"]],
    GetAll: [['$patientId', PID], ['$XDSDocumentEntryStatus', APPROVED], ['$XDSSubmissionSetStatus', APPROVED], ['$XDSFolderStatus', APPROVED]],
    GetDocuments: [['$XDSDocumentEntryUniqueId', "('1.2.3','1.2.4')"], ['$homeCommunityId', "'urn:oid:1.2.3'"]],
    GetFolders: [['$XDSFolderEntryUUID', "('urn:uuid:f')"]],
    GetAssociations: [['$uuid', "('urn:uuid:a')"]],
    GetDocumentsAndAssociations: [['$XDSDocumentEntryEntryUUID', "('urn:uuid:d')"]],
    GetSubmissionSets: [['$uuid', "('urn:uuid:d')"]],
    GetSubmissionSetAndContents: [['$XDSSubmissionSetEntryUUID', "'urn:uuid:s'"]],
    GetFolderAndContents: [['$XDSFolderUniqueId', "'1.2.3'"]],
    GetFoldersForDocument: [['$XDSDocumentEntryUniqueId', "'1.2.3'"]],
    GetRelatedDocuments: [['$XDSDocumentEntryUniqueId', "'1.2.3'"], ['$AssociationTypes', "('urn:ihe:iti:2007:AssociationType:RPLC')"]],
  };
  for (const [name, slots] of Object.entries(minimal) as Array<[StoredQueryName, Array<[string, ...string[]]>]>) {
    const q = ok(readStoredQueryRequest(request(STORED_QUERY_ID[name], slots, 'ObjectRef')));
    assert.equal(q.name, name);
    assert.equal(q.returnType, 'ObjectRef');
    const required = Object.entries(STORED_QUERY_SPECS[name].params).filter(([, s]) => s.required).map(([n]) => n);
    for (const r of required) {
      const without = slots.filter(([n]) => n !== r);
      assert.ok(codes(readStoredQueryRequest(request(STORED_QUERY_ID[name], without))).includes('XDSStoredQueryMissingParam'), `${name} without ${r}`);
    }
  }
  const withHome = ok(readStoredQueryRequest(request(STORED_QUERY_ID.GetDocuments, minimal.GetDocuments)));
  assert.equal(withHome.homeCommunityId, 'urn:oid:1.2.3');
  assert.deepEqual(queryStringGroups(ok(readStoredQueryRequest(request(STORED_QUERY_ID.FindDocumentsByReferenceId, minimal.FindDocumentsByReferenceId))), QUERY_PARAM.documentEntryReferenceIdList), [['ACC1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession']]);
  assert.deepEqual(codes(readStoredQueryRequest(request(STORED_QUERY_ID.GetRelatedDocuments, [['$XDSDocumentEntryUniqueId', "'1'"], ['$AssociationTypes', "('urn:x:Bogus')"]]))), ['XDSRegistryError']);
});

test('unknown parameters are ignored and reported', () => {
  const q = ok(readStoredQueryRequest(request(STORED_QUERY_ID.GetAssociations, [['$uuid', "('urn:uuid:a')"], ['$Whatever', "'x'"]])));
  assert.deepEqual(q.ignoredParameters, ['$Whatever']);
});

test('list syntax: quotes required, doubled quotes escape, commas inside quotes are data', () => {
  assert.deepEqual(parseQueryList("( 'a' , 'b,c' ,'d''e' )"), ['a', 'b,c', "d'e"]);
  assert.deepEqual(parseQueryList("'single'"), ['single']);
  for (const bad of ['(a,b)', "('a'", "('a' 'b')", '()', "('a',)", 'x']) assert.throws(() => parseQueryList(bad), Error, bad);
});

test('request writer → parser round trip (consumer side)', () => {
  const xml = writeStoredQueryRequest({
    name: 'FindDocuments',
    returnType: 'ObjectRef',
    params: {
      [QUERY_PARAM.documentEntryPatientId]: { kind: 'string', value: "O'Brien^^^&1.2.3&ISO" },
      [QUERY_PARAM.documentEntryStatus]: { kind: 'strings', values: [AVAILABILITY_STATUS.approved] },
      [QUERY_PARAM.documentEntryCreationTimeFrom]: { kind: 'timestamp', value: '2024' },
      [QUERY_PARAM.documentEntryClassCode]: { kind: 'codes', values: [{ code: 'IMAGES', scheme: '1.3.6.1.4.1.19376.1.2.6.1' }] },
      [QUERY_PARAM.documentEntryEventCodeList]: { kind: 'codeGroups', groups: [[{ code: 'CT', scheme: 'DCM' }], [{ code: 'MR', scheme: 'DCM' }]] },
    },
  });
  const q = ok(readStoredQueryRequest(parseXmlText(xml)));
  assert.equal(queryString(q, QUERY_PARAM.documentEntryPatientId), "O'Brien^^^&1.2.3&ISO");
  assert.equal(queryTimestamp(q, QUERY_PARAM.documentEntryCreationTimeFrom), '2024');
  assert.deepEqual(queryCodeGroups(q, QUERY_PARAM.documentEntryEventCodeList), [[{ code: 'CT', scheme: 'DCM' }], [{ code: 'MR', scheme: 'DCM' }]]);
  assert.equal(q.returnType, 'ObjectRef');
});

test('A-SQ-01: a LeafClass response carries full metadata incl. status, lid and objectType (NIST sample + our writer)', shared, () => {
  const nist = readStoredQueryResponse(parseXml(sample('nist-iti18-response-leafclass.xml')).root);
  assert.equal(nist.status, 'Success');
  assert.deepEqual(nist.problems, []);
  assert.equal(nist.metadata.documentEntries.length, 2);
  for (const de of nist.metadata.documentEntries) {
    assert.equal(de.availabilityStatus, AVAILABILITY_STATUS.approved);
    assert.equal(de.logicalId, de.entryUUID);
    assert.equal(de.objectType, 'stable');
    assert.equal(de.patientId, 'c4d77e21d0dd487^^^&1.3.6.1.4.1.21367.2005.3.7&ISO');
  }
  const ours = parseXmlText(writeStoredQueryResponse({ returnType: 'LeafClass', metadata: { ...nist.metadata, objectRefs: [] } }));
  const eo = childElements(firstChild(ours, RIM_NS, 'RegistryObjectList')!, RIM_NS, 'ExtrinsicObject')[0]!;
  for (const a of ['status', 'lid', 'objectType', 'mimeType', 'id']) assert.ok(eo.attributes.some((x) => x.local === a), a);
  assert.deepEqual(readStoredQueryResponse(ours).metadata.documentEntries, nist.metadata.documentEntries);
});

test('A-SQ-02: an ObjectRef response holds only rim:ObjectRef elements', () => {
  const m = validSubmission();
  const xml = parseXmlText(writeStoredQueryResponse({ returnType: 'ObjectRef', metadata: { ...m, submissionSets: [], folders: [], associations: [] } }));
  const list = firstChild(xml, RIM_NS, 'RegistryObjectList')!;
  assert.deepEqual(childElements(list).map((e) => e.local), ['ObjectRef', 'ObjectRef']);
  assert.deepEqual(readStoredQueryResponse(xml).metadata.objectRefs.map((r) => r.id), ['Document01', 'Manifest01']);
});

test('A-SQ-06: a query matching nothing is Success with zero entries', () => {
  const r = readStoredQueryResponse(parseXmlText(writeStoredQueryResponse({ returnType: 'LeafClass' })));
  assert.equal(r.status, 'Success');
  assert.equal(r.metadata.documentEntries.length, 0);
});

test('A-SQ-07: LeafClass results of two patients → XDSResultNotSinglePatient; ObjectRef is unrestricted', () => {
  const m = { ...validSubmission(), documentEntries: [fullDocumentEntry(), fullDocumentEntry({ entryUUID: 'D2', patientId: 'OTHER^^^&1.2.3&ISO' })] };
  const err = checkSinglePatient(m, 'LeafClass');
  assert.equal(err?.errorCode, 'XDSResultNotSinglePatient');
  assert.equal(checkSinglePatient(m, 'ObjectRef'), undefined);
  const failure = readStoredQueryResponse(parseXmlText(writeStoredQueryResponse({ returnType: 'LeafClass', errors: [err!] })));
  assert.equal(failure.status, 'Failure');
  assert.deepEqual(failure.errors.map((e) => e.errorCode), ['XDSResultNotSinglePatient']);
});

test('response status follows the errors: PartialSuccess with errors and results', () => {
  const r = readStoredQueryResponse(parseXmlText(writeStoredQueryResponse({ returnType: 'LeafClass', metadata: validSubmission(), errors: [{ errorCode: 'XDSRegistryError', codeContext: 'one community failed', severity: 'Error' }] })));
  assert.equal(r.status, 'PartialSuccess');
  const warn = readStoredQueryResponse(parseXmlText(writeStoredQueryResponse({ returnType: 'LeafClass', errors: [{ errorCode: 'XDSRegistryError', codeContext: 'note', severity: 'Warning' }] })));
  assert.equal(warn.status, 'Success');
  assert.equal(warn.errors[0]?.severity, 'Warning');
});

test('A-XCA-02 (consumer side): the NIST ITI-38 response parses and every entry has home = urn:oid', shared, () => {
  const env = parseSoapEnvelope(sample('nist-iti38-response.soap.xml'));
  const r = readStoredQueryResponse(env.payload);
  assert.equal(r.status, 'Success');
  assert.equal(r.metadata.documentEntries.length, 2);
  assert.ok(r.metadata.documentEntries.every((d) => d.homeCommunityId === 'urn:oid:2.3.4'));
});
