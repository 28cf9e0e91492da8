import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { parseSoapEnvelope } from '../soap/envelope.ts';
import { firstChild, parseXml, parseXmlText } from '../soap/safe-xml.ts';
import { XmlWriter } from '../soap/xml-writer.ts';
import { readRegistryObjectList, writeRegistryObjectList } from './ebrim.ts';
import { readSubmitObjectsRequest } from './iti42-register.ts';
import {
  assignEntryUuids,
  derivedUuidUrn,
  documentEntryToEbrim,
  isUuidUrn,
  readXdsMetadata,
  writeXdsMetadataXml,
  type XdsAssociation,
  type XdsMetadata,
} from './metadata.ts';
import { folder, fullDocumentEntry, hasMember, manifestEntry, submissionSet, validSubmission } from './test-fixtures.ts';
import { ASSOCIATION_TYPE, AVAILABILITY_STATUS, RIM_NS } from './vocabulary.ts';

const shared = { skip: requireTools({ shared: true }) };
const sample = (name: string): Buffer => readFileSync(join(samplesDir, name));

function roundTrip(m: XdsMetadata): ReturnType<typeof readXdsMetadata> {
  return readXdsMetadata(parseXmlText(writeXdsMetadataXml(m)));
}

const related = (type: string, id: string): XdsAssociation => ({ entryUUID: id, type, sourceUUID: 'Document02', targetUUID: 'urn:uuid:5a1f2bde-6d0c-4c61-9a0e-7a3f1b5e7c11', extraSlots: [], availabilityStatus: AVAILABILITY_STATUS.approved });

test('write → read round trip of every model object (DocumentEntry, SubmissionSet, Folder, Associations, ObjectRef)', () => {
  const m: XdsMetadata = {
    submissionSets: [submissionSet({ availabilityStatus: AVAILABILITY_STATUS.approved, homeCommunityId: 'urn:oid:1.2.3', logicalId: 'SubmissionSet01', version: '1', limitedMetadata: true })],
    documentEntries: [
      fullDocumentEntry(),
      manifestEntry({ objectType: 'on-demand', hash: undefined, size: undefined, limitedMetadata: true }),
      fullDocumentEntry({ entryUUID: 'Document02', uniqueId: '1.2.3.4.5', authors: [], eventCodes: [], referenceIdList: [], sourcePatientInfo: [], extraSlots: [], title: undefined, comments: undefined }),
    ],
    folders: [folder({ lastUpdateTime: '20240201', availabilityStatus: AVAILABILITY_STATUS.approved, codeList: [folder().codeList[0]!, { code: 'x', scheme: 'y' }] })],
    associations: [
      hasMember('as1', 'SubmissionSet01', 'Document01', 'Original'),
      hasMember('as2', 'SubmissionSet01', 'Folder01'),
      { ...hasMember('as3', 'SubmissionSet01', 'urn:uuid:5a1f2bde-6d0c-4c61-9a0e-7a3f1b5e7c11', 'Reference'), extraSlots: [{ name: 'x', values: ['1'] }] },
      related(ASSOCIATION_TYPE.replace, 'rplc'),
      related(ASSOCIATION_TYPE.append, 'apnd'),
      related(ASSOCIATION_TYPE.transform, 'xfrm'),
      related(ASSOCIATION_TYPE.transformAndReplace, 'xfrmrplc'),
      { ...related(ASSOCIATION_TYPE.signs, 'signs'), previousVersion: '2', associationPropagation: 'no' },
    ],
    objectRefs: [{ kind: 'ObjectRef', id: 'urn:uuid:5a1f2bde-6d0c-4c61-9a0e-7a3f1b5e7c11', home: 'urn:oid:1.2.3' }],
  };
  const { metadata, problems } = roundTrip(m);
  assert.deepEqual(problems, []);
  assert.deepEqual(metadata, m);
});

test('ebRIM round trip keeps every attribute of NIST samples (LeafClass response, ITI-42, ITI-41)', shared, () => {
  const leaf = parseXml(sample('nist-iti18-response-leafclass.xml')).root;
  const pnrText = sample('nist-iti41-pnr-mtom-xop.body.txt').toString('utf8');
  const pnrEnvelope = parseSoapEnvelope(pnrText.slice(pnrText.indexOf('<?xml'), pnrText.indexOf('</soapenv:Envelope>') + '</soapenv:Envelope>'.length));
  const pnrSubmit = firstChild(pnrEnvelope.payload!, 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0', 'SubmitObjectsRequest')!;
  const lists = [
    firstChild(leaf, RIM_NS, 'RegistryObjectList'),
    firstChild(parseSoapEnvelope(sample('nist-iti42-register-default-ns.soap.xml')).payload!, RIM_NS, 'RegistryObjectList'),
    firstChild(pnrSubmit, RIM_NS, 'RegistryObjectList'),
  ];
  for (const list of lists) {
    assert.ok(list);
    const first = readRegistryObjectList(list);
    const w = new XmlWriter();
    writeRegistryObjectList(w, first.objects);
    const second = readRegistryObjectList(parseXmlText(w.toString()));
    assert.deepEqual(second, first);
    assert.deepEqual(readXdsMetadata(second).metadata, readXdsMetadata(first).metadata);
  }
});

test('NIST ITI-42 with default (unprefixed) namespaces maps to the same model as prefixed XML', shared, () => {
  const env = parseSoapEnvelope(sample('nist-iti42-register-default-ns.soap.xml'));
  const { metadata, problems } = readSubmitObjectsRequest(env.payload!);
  assert.deepEqual(problems, []);
  const de = metadata.documentEntries[0]!;
  assert.equal(de.entryUUID, 'urn:uuid:bdcf80c9-a34e-47dc-ae42-766f894077ec');
  assert.equal(de.hash, 'e543712c0e10501972de13a5bfcbe826c49feb75');
  assert.equal(de.size, 36);
  assert.equal(de.repositoryUniqueId, '1.2.16.840.1.113883.3.3700');
  assert.equal(de.authors.length, 2);
  assert.deepEqual(de.authors[0]?.institutions, ['Cleveland Clinic', 'Parma Community']);
  assert.deepEqual(de.classCode, { code: 'DEMO-Ext Summary', scheme: '1.3.6.1.4.1.21367.100.1', display: 'Summary for External / Non Clinical Use' });
  assert.equal(metadata.submissionSets[0]?.sourceId, '1.3.6.1.4.1.21367.4');
  assert.equal(metadata.associations[0]?.submissionSetStatus, 'Original');
  // Re-written with prefixes, read again: the same model.
  assert.deepEqual(roundTrip(metadata).metadata, metadata);
});

test('reading reports what does not fit instead of throwing', () => {
  const xml = `<rim:RegistryObjectList xmlns:rim="${RIM_NS}">
    <rim:RegistryPackage id="pkg"/>
    <rim:ExtrinsicObject id="d" objectType="urn:uuid:bogus" mimeType="text/plain">
      <rim:Slot name="size"><rim:ValueList><rim:Value>12x</rim:Value></rim:ValueList></rim:Slot>
      <rim:Slot name="creationTime"><rim:ValueList><rim:Value>2020</rim:Value><rim:Value>2021</rim:Value></rim:ValueList></rim:Slot>
      <rim:Classification id="c1" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" classifiedObject="other" nodeRepresentation="X"/>
    </rim:ExtrinsicObject>
    <rim:Classification id="c2" classifiedObject="ghost" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
    <rim:Foo/>
  </rim:RegistryObjectList>`;
  const { problems } = readXdsMetadata(parseXmlText(xml));
  const messages = problems.map((p) => p.message).join('\n');
  assert.match(messages, /neither as SubmissionSet nor as Folder/);
  assert.match(messages, /objectType 'urn:uuid:bogus'/);
  assert.match(messages, /size '12x'/);
  assert.match(messages, /creationTime' must have exactly one value/);
  assert.match(messages, /classifies 'other', expected 'd'/);
  assert.match(messages, /no codingScheme/);
  assert.match(messages, /unknown object 'ghost'/);
  assert.match(messages, /Foo/);
  assert.equal(problems.find((p) => p.message.includes("size '12x'"))?.attribute, 'size');
});

test('symbolic ids are replaced by new urn:uuid entryUUIDs, associations follow', () => {
  let n = 0;
  const generate = (): string => `urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const m = validSubmission();
  const kept = 'urn:uuid:5a1f2bde-6d0c-4c61-9a0e-7a3f1b5e7c11';
  const withUuid: XdsMetadata = { ...m, associations: [...m.associations, hasMember(kept, 'SubmissionSet01', 'urn:uuid:11111111-2222-4333-8444-555555555555')] };
  const { metadata, mapping } = assignEntryUuids(withUuid, generate);
  assert.equal(mapping.get('SubmissionSet01'), 'urn:uuid:00000000-0000-4000-8000-000000000001');
  assert.ok([...metadata.submissionSets, ...metadata.documentEntries, ...metadata.folders, ...metadata.associations].every((e) => isUuidUrn(e.entryUUID)));
  const ss = metadata.submissionSets[0]!.entryUUID;
  const doc = metadata.documentEntries.find((d) => d.uniqueId === m.documentEntries[0]!.uniqueId)!.entryUUID;
  assert.ok(metadata.associations.some((a) => a.sourceUUID === ss && a.targetUUID === doc));
  const folderMembership = metadata.associations.find((a) => a.entryUUID === mapping.get('as4'))!;
  assert.ok(metadata.associations.some((a) => a.sourceUUID === ss && a.targetUUID === folderMembership.entryUUID), 'association-to-association reference is mapped');
  assert.equal(metadata.associations.find((a) => a.entryUUID === kept)?.targetUUID, 'urn:uuid:11111111-2222-4333-8444-555555555555', 'existing UUIDs are kept');
  assert.equal(mapping.has(kept), false);
  // The default generator gives RFC 4122 UUIDs.
  assert.ok(isUuidUrn(assignEntryUuids(m).metadata.submissionSets[0]!.entryUUID));
});

test('derived classification ids are stable urn:uuid values', () => {
  assert.equal(derivedUuidUrn('a'), derivedUuidUrn('a'));
  assert.notEqual(derivedUuidUrn('a'), derivedUuidUrn('b'));
  assert.match(derivedUuidUrn('a'), /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const eo = documentEntryToEbrim(fullDocumentEntry());
  assert.deepEqual(documentEntryToEbrim(fullDocumentEntry()), eo);
  assert.ok(eo.classifications.every((c) => isUuidUrn(c.id)));
});
