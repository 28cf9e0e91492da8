// The XDS metadata model (SubmissionSet, DocumentEntry, Folder, Association; ITI TF-3 4.2.3)
// and its mapping to and from ebRIM 3.0 registry objects. Reading is tolerant: anything that
// does not fit the model is reported as a MetadataProblem (validation turns problems into
// RegistryErrors with the right code for the transaction) instead of throwing.
import { createHash, randomUUID } from 'node:crypto';
import type { XmlElement } from '../soap/safe-xml.ts';
import { XmlWriter } from '../soap/xml-writer.ts';
import {
  compact,
  readRegistryObjectList,
  writeRegistryObjectList,
  type Association as EbAssociation,
  type Classification,
  type ExternalIdentifier,
  type ExtrinsicObject,
  type ObjectRef,
  type RegistryObject,
  type RegistryObjectListContent,
  type RegistryPackage,
  type Slot,
} from './ebrim.ts';
import {
  CLASSIFICATION_NODE,
  DOCUMENT_ENTRY_TYPE,
  IDENTIFICATION_SCHEME,
  IDENTIFIER_NAME,
  LIMITED_METADATA,
  OBJECT_TYPE,
  SCHEME,
  SLOT,
} from './vocabulary.ts';

/** A coded value: code, coding scheme, display name (the "code triplet"). */
export interface Code {
  readonly code: string;
  readonly scheme: string;
  readonly display?: string;
}

export interface Author {
  /** XCN */
  readonly person?: string;
  /** XON each */
  readonly institutions: readonly string[];
  readonly roles: readonly string[];
  readonly specialties: readonly string[];
  /** XTN each */
  readonly telecommunications: readonly string[];
}

interface EntryCommon {
  /** The registry object id: `urn:uuid:...`, or a symbolic id in a submission. */
  readonly entryUUID: string;
  readonly logicalId?: string;
  readonly version?: string;
  readonly availabilityStatus?: string;
  readonly homeCommunityId?: string;
  readonly title?: string;
  readonly comments?: string;
  /** Slots the model does not know, kept so extra metadata survives a round trip. */
  readonly extraSlots: readonly Slot[];
}

export interface DocumentEntry extends EntryCommon {
  readonly uniqueId: string;
  readonly patientId: string;
  readonly objectType: 'stable' | 'on-demand';
  readonly mimeType: string;
  readonly sourcePatientId?: string;
  readonly sourcePatientInfo: readonly string[];
  readonly classCode?: Code;
  readonly confidentialityCodes: readonly Code[];
  readonly formatCode?: Code;
  readonly healthcareFacilityTypeCode?: Code;
  readonly practiceSettingCode?: Code;
  readonly typeCode?: Code;
  readonly eventCodes: readonly Code[];
  readonly creationTime?: string;
  readonly serviceStartTime?: string;
  readonly serviceStopTime?: string;
  /** SHA-1, hex, as sent (case preserved; compare case-insensitively). */
  readonly hash?: string;
  readonly size?: number;
  readonly repositoryUniqueId?: string;
  readonly languageCode?: string;
  readonly authors: readonly Author[];
  /** CXi values (e.g. accession numbers). */
  readonly referenceIdList: readonly string[];
  /** XCN */
  readonly legalAuthenticator?: string;
  readonly uri?: string;
  readonly limitedMetadata?: boolean;
}

export interface SubmissionSet extends EntryCommon {
  readonly uniqueId: string;
  readonly sourceId: string;
  readonly patientId: string;
  readonly submissionTime?: string;
  readonly contentTypeCode?: Code;
  readonly authors: readonly Author[];
  readonly intendedRecipients: readonly string[];
  readonly limitedMetadata?: boolean;
}

export interface Folder extends EntryCommon {
  readonly uniqueId: string;
  readonly patientId: string;
  readonly codeList: readonly Code[];
  readonly lastUpdateTime?: string;
  readonly limitedMetadata?: boolean;
}

export interface XdsAssociation {
  readonly entryUUID: string;
  /** Full association type URN (see ASSOCIATION_TYPE). */
  readonly type: string;
  readonly sourceUUID: string;
  readonly targetUUID: string;
  /** HasMember SubmissionSet → DocumentEntry: 'Original' or 'Reference'. */
  readonly submissionSetStatus?: string;
  readonly previousVersion?: string;
  readonly associationPropagation?: string;
  readonly availabilityStatus?: string;
  readonly homeCommunityId?: string;
  readonly extraSlots: readonly Slot[];
}

export interface XdsMetadata {
  readonly submissionSets: readonly SubmissionSet[];
  readonly documentEntries: readonly DocumentEntry[];
  readonly folders: readonly Folder[];
  readonly associations: readonly XdsAssociation[];
  readonly objectRefs: readonly ObjectRef[];
}

export const EMPTY_METADATA: XdsMetadata = Object.freeze({
  submissionSets: [],
  documentEntries: [],
  folders: [],
  associations: [],
  objectRefs: [],
});

/** Something in the ebRIM that does not map cleanly to XDS. */
export interface MetadataProblem {
  readonly message: string;
  /** id of the object concerned. */
  readonly location: string;
  /** XDS attribute name, when the problem is about one (e.g. 'hash', 'size', 'classCode'). */
  readonly attribute?: string;
}

export interface ReadMetadataResult {
  readonly metadata: XdsMetadata;
  readonly problems: readonly MetadataProblem[];
}

// ---------------------------------------------------------------------------------------------
// Identifiers

const UUID_URN = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuidUrn(id: string): boolean {
  return UUID_URN.test(id);
}

export function newUuidUrn(): string {
  return `urn:uuid:${randomUUID()}`;
}

/** A name-based (v5-style, SHA-1) urn:uuid: the same seed always gives the same id. */
export function derivedUuidUrn(seed: string): string {
  const h = createHash('sha1').update(seed).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Reading ebRIM → XDS

class ProblemLog {
  readonly problems: MetadataProblem[] = [];
  add(location: string, message: string, attribute?: string): void {
    this.problems.push(compact({ location, message, attribute }));
  }
}

/** Slots by name; duplicates reported. */
function slotMap(owner: string, slots: readonly Slot[], log: ProblemLog): Map<string, readonly string[]> {
  const map = new Map<string, readonly string[]>();
  for (const s of slots) {
    if (map.has(s.name)) log.add(owner, `slot '${s.name}' appears more than once`, s.name);
    else map.set(s.name, s.values);
  }
  return map;
}

function singleValue(owner: string, slots: Map<string, readonly string[]>, name: string, log: ProblemLog): string | undefined {
  const values = slots.get(name);
  if (values === undefined) return undefined;
  if (values.length !== 1) log.add(owner, `slot '${name}' must have exactly one value, has ${values.length}`, name);
  return values[0];
}

function firstName(o: { readonly name: readonly { readonly value: string }[] }): string | undefined {
  return o.name[0]?.value;
}

function firstDescription(o: { readonly description: readonly { readonly value: string }[] }): string | undefined {
  return o.description[0]?.value;
}

/** The attributes every DocumentEntry, SubmissionSet and Folder reads the same way from its registry object. */
function commonEntryFields(o: ExtrinsicObject | RegistryPackage, knownSlots: ReadonlySet<string>) {
  return {
    entryUUID: o.id,
    logicalId: o.lid,
    version: o.versionName,
    availabilityStatus: o.status,
    homeCommunityId: o.home,
    title: firstName(o),
    comments: firstDescription(o),
    extraSlots: remainingSlots(o.slots, knownSlots),
  };
}

function readCode(owner: string, c: Classification, attributeName: string, log: ProblemLog): Code | undefined {
  const slots = slotMap(c.id, c.slots, log);
  const scheme = singleValue(c.id, slots, SLOT.codingScheme, log);
  if (c.nodeRepresentation === undefined || c.nodeRepresentation === '') {
    log.add(owner, `${attributeName} classification ${c.id} has no nodeRepresentation (code)`, attributeName);
    return undefined;
  }
  if (scheme === undefined || scheme === '') {
    log.add(owner, `${attributeName} '${c.nodeRepresentation}' has no codingScheme slot`, attributeName);
  }
  return compact({ code: c.nodeRepresentation, scheme: scheme ?? '', display: firstName(c) });
}

function readAuthor(c: Classification, log: ProblemLog): Author {
  const slots = slotMap(c.id, c.slots, log);
  const person = slots.get(SLOT.authorPerson);
  if (person && person.length > 1) log.add(c.id, 'authorPerson must have at most one value', 'author');
  return compact({
    person: person?.[0],
    institutions: slots.get(SLOT.authorInstitution) ?? [],
    roles: slots.get(SLOT.authorRole) ?? [],
    specialties: slots.get(SLOT.authorSpecialty) ?? [],
    telecommunications: slots.get(SLOT.authorTelecommunication) ?? [],
  });
}

interface Classified {
  readonly codes: Map<string, Classification[]>;
  readonly nodes: Set<string>;
}

function collectClassifications(owner: string, classifications: readonly Classification[], log: ProblemLog): Classified {
  const codes = new Map<string, Classification[]>();
  const nodes = new Set<string>();
  for (const c of classifications) {
    if (c.classifiedObject !== owner) {
      log.add(owner, `classification ${c.id} classifies '${c.classifiedObject}', expected '${owner}'`);
    }
    if (c.classificationNode !== undefined) nodes.add(c.classificationNode);
    if (c.classificationScheme !== undefined) {
      const list = codes.get(c.classificationScheme) ?? [];
      list.push(c);
      codes.set(c.classificationScheme, list);
    }
  }
  return { codes, nodes };
}

function oneCode(owner: string, cls: Classified, scheme: string, attributeName: string, log: ProblemLog): Code | undefined {
  const list = cls.codes.get(scheme) ?? [];
  if (list.length > 1) log.add(owner, `${attributeName} must appear at most once, found ${list.length}`, attributeName);
  return list[0] ? readCode(owner, list[0], attributeName, log) : undefined;
}

function manyCodes(owner: string, cls: Classified, scheme: string, attributeName: string, log: ProblemLog): Code[] {
  return (cls.codes.get(scheme) ?? []).map((c) => readCode(owner, c, attributeName, log)).filter((c): c is Code => c !== undefined);
}

function externalIds(owner: string, ids: readonly ExternalIdentifier[], log: ProblemLog): Map<string, string> {
  const map = new Map<string, string>();
  for (const x of ids) {
    if (x.registryObject !== '' && x.registryObject !== owner) {
      log.add(owner, `external identifier ${x.id} refers to '${x.registryObject}', expected '${owner}'`);
    }
    if (map.has(x.identificationScheme)) log.add(owner, `external identifier ${IDENTIFIER_NAME[x.identificationScheme] ?? x.identificationScheme} appears twice`);
    else map.set(x.identificationScheme, x.value);
  }
  return map;
}

function remainingSlots(slots: readonly Slot[], known: ReadonlySet<string>): Slot[] {
  return slots.filter((s) => !known.has(s.name));
}

const DE_KNOWN_SLOTS: ReadonlySet<string> = new Set([
  SLOT.creationTime,
  SLOT.languageCode,
  SLOT.sourcePatientId,
  SLOT.sourcePatientInfo,
  SLOT.hash,
  SLOT.size,
  SLOT.repositoryUniqueId,
  SLOT.serviceStartTime,
  SLOT.serviceStopTime,
  SLOT.legalAuthenticator,
  SLOT.uri,
  SLOT.referenceIdList,
]);

function readDocumentEntry(eo: ExtrinsicObject, log: ProblemLog): DocumentEntry {
  const id = eo.id;
  const slots = slotMap(id, eo.slots, log);
  const cls = collectClassifications(id, eo.classifications, log);
  const ext = externalIds(id, eo.externalIdentifiers, log);
  const objectType = eo.objectType === DOCUMENT_ENTRY_TYPE.onDemand ? 'on-demand' : 'stable';
  if (eo.objectType !== DOCUMENT_ENTRY_TYPE.stable && eo.objectType !== DOCUMENT_ENTRY_TYPE.onDemand) {
    log.add(id, `ExtrinsicObject objectType '${eo.objectType ?? ''}' is not a DocumentEntry type`, 'objectType');
  }
  const sizeText = singleValue(id, slots, SLOT.size, log);
  let size: number | undefined;
  if (sizeText !== undefined) {
    if (/^\d{1,15}$/.test(sizeText.trim())) size = Number(sizeText.trim());
    else log.add(id, `size '${sizeText.slice(0, 30)}' is not a non-negative integer`, 'size');
  }
  return compact({
    ...commonEntryFields(eo, DE_KNOWN_SLOTS),
    uniqueId: ext.get(IDENTIFICATION_SCHEME.documentEntryUniqueId) ?? '',
    patientId: ext.get(IDENTIFICATION_SCHEME.documentEntryPatientId) ?? '',
    objectType,
    mimeType: eo.mimeType ?? '',
    sourcePatientId: singleValue(id, slots, SLOT.sourcePatientId, log),
    sourcePatientInfo: slots.get(SLOT.sourcePatientInfo) ?? [],
    classCode: oneCode(id, cls, SCHEME.classCode, 'classCode', log),
    confidentialityCodes: manyCodes(id, cls, SCHEME.confidentialityCode, 'confidentialityCode', log),
    formatCode: oneCode(id, cls, SCHEME.formatCode, 'formatCode', log),
    healthcareFacilityTypeCode: oneCode(id, cls, SCHEME.healthcareFacilityTypeCode, 'healthcareFacilityTypeCode', log),
    practiceSettingCode: oneCode(id, cls, SCHEME.practiceSettingCode, 'practiceSettingCode', log),
    typeCode: oneCode(id, cls, SCHEME.typeCode, 'typeCode', log),
    eventCodes: manyCodes(id, cls, SCHEME.eventCodeList, 'eventCodeList', log),
    creationTime: singleValue(id, slots, SLOT.creationTime, log),
    serviceStartTime: singleValue(id, slots, SLOT.serviceStartTime, log),
    serviceStopTime: singleValue(id, slots, SLOT.serviceStopTime, log),
    hash: singleValue(id, slots, SLOT.hash, log),
    size,
    repositoryUniqueId: singleValue(id, slots, SLOT.repositoryUniqueId, log),
    languageCode: singleValue(id, slots, SLOT.languageCode, log),
    authors: (cls.codes.get(SCHEME.documentEntryAuthor) ?? []).map((c) => readAuthor(c, log)),
    referenceIdList: slots.get(SLOT.referenceIdList) ?? [],
    legalAuthenticator: singleValue(id, slots, SLOT.legalAuthenticator, log),
    uri: singleValue(id, slots, SLOT.uri, log),
    limitedMetadata: cls.nodes.has(LIMITED_METADATA.documentEntry) || undefined,
  });
}

function readSubmissionSet(rp: RegistryPackage, cls: Classified, log: ProblemLog): SubmissionSet {
  const id = rp.id;
  const slots = slotMap(id, rp.slots, log);
  const ext = externalIds(id, rp.externalIdentifiers, log);
  return compact({
    ...commonEntryFields(rp, new Set([SLOT.submissionTime, SLOT.intendedRecipient])),
    uniqueId: ext.get(IDENTIFICATION_SCHEME.submissionSetUniqueId) ?? '',
    sourceId: ext.get(IDENTIFICATION_SCHEME.submissionSetSourceId) ?? '',
    patientId: ext.get(IDENTIFICATION_SCHEME.submissionSetPatientId) ?? '',
    submissionTime: singleValue(id, slots, SLOT.submissionTime, log),
    contentTypeCode: oneCode(id, cls, SCHEME.contentTypeCode, 'contentTypeCode', log),
    authors: (cls.codes.get(SCHEME.submissionSetAuthor) ?? []).map((c) => readAuthor(c, log)),
    intendedRecipients: slots.get(SLOT.intendedRecipient) ?? [],
    limitedMetadata: cls.nodes.has(LIMITED_METADATA.submissionSet) || undefined,
  });
}

function readFolder(rp: RegistryPackage, cls: Classified, log: ProblemLog): Folder {
  const id = rp.id;
  const slots = slotMap(id, rp.slots, log);
  const ext = externalIds(id, rp.externalIdentifiers, log);
  return compact({
    ...commonEntryFields(rp, new Set([SLOT.lastUpdateTime])),
    uniqueId: ext.get(IDENTIFICATION_SCHEME.folderUniqueId) ?? '',
    patientId: ext.get(IDENTIFICATION_SCHEME.folderPatientId) ?? '',
    codeList: manyCodes(id, cls, SCHEME.folderCodeList, 'codeList', log),
    lastUpdateTime: singleValue(id, slots, SLOT.lastUpdateTime, log),
    limitedMetadata: cls.nodes.has(LIMITED_METADATA.folder) || undefined,
  });
}

function readAssociation(a: EbAssociation, log: ProblemLog): XdsAssociation {
  const slots = slotMap(a.id, a.slots, log);
  return compact({
    entryUUID: a.id,
    type: a.associationType,
    sourceUUID: a.sourceObject,
    targetUUID: a.targetObject,
    submissionSetStatus: singleValue(a.id, slots, SLOT.submissionSetStatus, log),
    previousVersion: singleValue(a.id, slots, SLOT.previousVersion, log),
    associationPropagation: singleValue(a.id, slots, SLOT.associationPropagation, log),
    availabilityStatus: a.status,
    homeCommunityId: a.home,
    extraSlots: remainingSlots(a.slots, new Set([SLOT.submissionSetStatus, SLOT.previousVersion, SLOT.associationPropagation])),
  });
}

/**
 * Maps a RegistryObjectList (element or already-read content) to XDS metadata.
 * Top-level Classifications / ExternalIdentifiers are attached to the object they name.
 */
export function readXdsMetadata(list: XmlElement | RegistryObjectListContent): ReadMetadataResult {
  const content = 'objects' in list ? list : readRegistryObjectList(list);
  const log = new ProblemLog();
  for (const name of content.ignoredElements) log.add('RegistryObjectList', `element ${name} is not XDS metadata and was ignored`);
  const extraClassifications = new Map<string, Classification[]>();
  const extraIdentifiers = new Map<string, ExternalIdentifier[]>();
  for (const o of content.objects) {
    if (o.kind === 'Classification') {
      const l = extraClassifications.get(o.classifiedObject) ?? [];
      l.push(o);
      extraClassifications.set(o.classifiedObject, l);
    } else if (o.kind === 'ExternalIdentifier') {
      const l = extraIdentifiers.get(o.registryObject) ?? [];
      l.push(o);
      extraIdentifiers.set(o.registryObject, l);
    }
  }
  const known = new Set(content.objects.filter((o) => o.kind !== 'Classification' && o.kind !== 'ExternalIdentifier').map((o) => o.id));
  for (const [target, list] of extraClassifications) {
    if (!known.has(target)) for (const c of list) log.add(c.id, `classification classifies unknown object '${target}'`);
  }

  const submissionSets: SubmissionSet[] = [];
  const documentEntries: DocumentEntry[] = [];
  const folders: Folder[] = [];
  const associations: XdsAssociation[] = [];
  const objectRefs: ObjectRef[] = [];
  for (const o of content.objects) {
    switch (o.kind) {
      case 'ExtrinsicObject': {
        const merged: ExtrinsicObject = {
          ...o,
          classifications: [...o.classifications, ...(extraClassifications.get(o.id) ?? [])],
          externalIdentifiers: [...o.externalIdentifiers, ...(extraIdentifiers.get(o.id) ?? [])],
        };
        documentEntries.push(readDocumentEntry(merged, log));
        break;
      }
      case 'RegistryPackage': {
        const classifications = [...o.classifications, ...(extraClassifications.get(o.id) ?? [])];
        const merged: RegistryPackage = { ...o, classifications, externalIdentifiers: [...o.externalIdentifiers, ...(extraIdentifiers.get(o.id) ?? [])] };
        const cls = collectClassifications(o.id, classifications, log);
        const isSet = cls.nodes.has(CLASSIFICATION_NODE.submissionSet);
        const isFolder = cls.nodes.has(CLASSIFICATION_NODE.folder);
        if (isSet && isFolder) log.add(o.id, 'RegistryPackage is classified both as SubmissionSet and as Folder');
        if (isSet) submissionSets.push(readSubmissionSet(merged, cls, log));
        else if (isFolder) folders.push(readFolder(merged, cls, log));
        else log.add(o.id, 'RegistryPackage is classified neither as SubmissionSet nor as Folder');
        break;
      }
      case 'Association':
        associations.push(readAssociation(o, log));
        break;
      case 'ObjectRef':
        objectRefs.push(o);
        break;
      default:
        break;
    }
  }
  return { metadata: { submissionSets, documentEntries, folders, associations, objectRefs }, problems: log.problems };
}

// ---------------------------------------------------------------------------------------------
// Writing XDS → ebRIM

function slot(name: string, value: string | number | undefined): Slot[] {
  return value === undefined ? [] : [{ name, values: [String(value)] }];
}

function multiSlot(name: string, values: readonly string[]): Slot[] {
  return values.length === 0 ? [] : [{ name, values }];
}

function text(value: string | undefined): { value: string }[] {
  return value === undefined ? [] : [{ value }];
}

function codeClassification(owner: string, scheme: string, code: Code, index: number, role: string): Classification {
  return compact({
    kind: 'Classification' as const,
    id: derivedUuidUrn(`${owner}|${role}|${index}`),
    objectType: OBJECT_TYPE.classification,
    classificationScheme: scheme,
    classifiedObject: owner,
    nodeRepresentation: code.code,
    slots: [{ name: SLOT.codingScheme, values: [code.scheme] }],
    name: text(code.display),
    description: [],
  });
}

function authorClassification(owner: string, scheme: string, a: Author, index: number): Classification {
  return {
    kind: 'Classification',
    id: derivedUuidUrn(`${owner}|author|${index}`),
    objectType: OBJECT_TYPE.classification,
    classificationScheme: scheme,
    classifiedObject: owner,
    nodeRepresentation: '',
    slots: [
      ...slot(SLOT.authorPerson, a.person),
      ...multiSlot(SLOT.authorInstitution, a.institutions),
      ...multiSlot(SLOT.authorRole, a.roles),
      ...multiSlot(SLOT.authorSpecialty, a.specialties),
      ...multiSlot(SLOT.authorTelecommunication, a.telecommunications),
    ],
    name: [],
    description: [],
  };
}

function nodeClassification(owner: string, node: string): Classification {
  return {
    kind: 'Classification',
    id: derivedUuidUrn(`${owner}|node|${node}`),
    objectType: OBJECT_TYPE.classification,
    classificationNode: node,
    classifiedObject: owner,
    slots: [],
    name: [],
    description: [],
  };
}

function externalIdentifier(owner: string, scheme: string, value: string): ExternalIdentifier {
  return {
    kind: 'ExternalIdentifier',
    id: derivedUuidUrn(`${owner}|ext|${scheme}`),
    objectType: OBJECT_TYPE.externalIdentifier,
    identificationScheme: scheme,
    value,
    registryObject: owner,
    slots: [],
    name: [{ value: IDENTIFIER_NAME[scheme] ?? '' }],
    description: [],
  };
}

function codes(owner: string, scheme: string, list: readonly (Code | undefined)[], role: string): Classification[] {
  return list.filter((c): c is Code => c !== undefined).map((c, i) => codeClassification(owner, scheme, c, i, role));
}

export function documentEntryToEbrim(de: DocumentEntry): ExtrinsicObject {
  const id = de.entryUUID;
  return compact({
    kind: 'ExtrinsicObject' as const,
    id,
    lid: de.logicalId,
    home: de.homeCommunityId,
    status: de.availabilityStatus,
    objectType: de.objectType === 'on-demand' ? DOCUMENT_ENTRY_TYPE.onDemand : DOCUMENT_ENTRY_TYPE.stable,
    mimeType: de.mimeType,
    versionName: de.version,
    slots: [
      ...slot(SLOT.creationTime, de.creationTime),
      ...slot(SLOT.languageCode, de.languageCode),
      ...slot(SLOT.hash, de.hash),
      ...slot(SLOT.size, de.size),
      ...slot(SLOT.repositoryUniqueId, de.repositoryUniqueId),
      ...slot(SLOT.serviceStartTime, de.serviceStartTime),
      ...slot(SLOT.serviceStopTime, de.serviceStopTime),
      ...slot(SLOT.sourcePatientId, de.sourcePatientId),
      ...multiSlot(SLOT.sourcePatientInfo, de.sourcePatientInfo),
      ...slot(SLOT.legalAuthenticator, de.legalAuthenticator),
      ...slot(SLOT.uri, de.uri),
      ...multiSlot(SLOT.referenceIdList, de.referenceIdList),
      ...de.extraSlots,
    ],
    name: text(de.title),
    description: text(de.comments),
    classifications: [
      ...de.authors.map((a, i) => authorClassification(id, SCHEME.documentEntryAuthor, a, i)),
      ...codes(id, SCHEME.classCode, [de.classCode], 'classCode'),
      ...codes(id, SCHEME.confidentialityCode, de.confidentialityCodes, 'confidentialityCode'),
      ...codes(id, SCHEME.eventCodeList, de.eventCodes, 'eventCodeList'),
      ...codes(id, SCHEME.formatCode, [de.formatCode], 'formatCode'),
      ...codes(id, SCHEME.healthcareFacilityTypeCode, [de.healthcareFacilityTypeCode], 'healthcareFacilityTypeCode'),
      ...codes(id, SCHEME.practiceSettingCode, [de.practiceSettingCode], 'practiceSettingCode'),
      ...codes(id, SCHEME.typeCode, [de.typeCode], 'typeCode'),
      ...(de.limitedMetadata ? [nodeClassification(id, LIMITED_METADATA.documentEntry)] : []),
    ],
    externalIdentifiers: [
      externalIdentifier(id, IDENTIFICATION_SCHEME.documentEntryPatientId, de.patientId),
      externalIdentifier(id, IDENTIFICATION_SCHEME.documentEntryUniqueId, de.uniqueId),
    ],
  });
}

function packageCommon(e: EntryCommon): Pick<RegistryPackage, 'kind' | 'id' | 'lid' | 'home' | 'status' | 'objectType' | 'versionName' | 'name' | 'description'> {
  return compact({
    kind: 'RegistryPackage' as const,
    id: e.entryUUID,
    lid: e.logicalId,
    home: e.homeCommunityId,
    status: e.availabilityStatus,
    objectType: OBJECT_TYPE.registryPackage,
    versionName: e.version,
    name: text(e.title),
    description: text(e.comments),
  });
}

/** The package and the top-level Classification that marks it as a SubmissionSet (NIST's form). */
export function submissionSetToEbrim(ss: SubmissionSet): RegistryObject[] {
  const id = ss.entryUUID;
  const pkg: RegistryPackage = {
    ...packageCommon(ss),
    slots: [...slot(SLOT.submissionTime, ss.submissionTime), ...multiSlot(SLOT.intendedRecipient, ss.intendedRecipients), ...ss.extraSlots],
    classifications: [
      ...ss.authors.map((a, i) => authorClassification(id, SCHEME.submissionSetAuthor, a, i)),
      ...codes(id, SCHEME.contentTypeCode, [ss.contentTypeCode], 'contentTypeCode'),
      ...(ss.limitedMetadata ? [nodeClassification(id, LIMITED_METADATA.submissionSet)] : []),
    ],
    externalIdentifiers: [
      externalIdentifier(id, IDENTIFICATION_SCHEME.submissionSetUniqueId, ss.uniqueId),
      externalIdentifier(id, IDENTIFICATION_SCHEME.submissionSetSourceId, ss.sourceId),
      externalIdentifier(id, IDENTIFICATION_SCHEME.submissionSetPatientId, ss.patientId),
    ],
  };
  return [pkg, nodeClassification(id, CLASSIFICATION_NODE.submissionSet)];
}

export function folderToEbrim(f: Folder): RegistryObject[] {
  const id = f.entryUUID;
  const pkg: RegistryPackage = {
    ...packageCommon(f),
    slots: [...slot(SLOT.lastUpdateTime, f.lastUpdateTime), ...f.extraSlots],
    classifications: [
      ...codes(id, SCHEME.folderCodeList, f.codeList, 'codeList'),
      ...(f.limitedMetadata ? [nodeClassification(id, LIMITED_METADATA.folder)] : []),
    ],
    externalIdentifiers: [
      externalIdentifier(id, IDENTIFICATION_SCHEME.folderUniqueId, f.uniqueId),
      externalIdentifier(id, IDENTIFICATION_SCHEME.folderPatientId, f.patientId),
    ],
  };
  return [pkg, nodeClassification(id, CLASSIFICATION_NODE.folder)];
}

export function associationToEbrim(a: XdsAssociation): EbAssociation {
  return compact({
    kind: 'Association' as const,
    id: a.entryUUID,
    home: a.homeCommunityId,
    status: a.availabilityStatus,
    objectType: OBJECT_TYPE.association,
    associationType: a.type,
    sourceObject: a.sourceUUID,
    targetObject: a.targetUUID,
    slots: [
      ...slot(SLOT.submissionSetStatus, a.submissionSetStatus),
      ...slot(SLOT.previousVersion, a.previousVersion),
      ...slot(SLOT.associationPropagation, a.associationPropagation),
      ...a.extraSlots,
    ],
    name: [],
    description: [],
    classifications: [],
    externalIdentifiers: [],
  });
}

/** All metadata as ebRIM objects (LeafClass form), submission set first. */
export function xdsMetadataToEbrim(m: XdsMetadata): RegistryObject[] {
  return [
    ...m.submissionSets.flatMap(submissionSetToEbrim),
    ...m.folders.flatMap(folderToEbrim),
    ...m.documentEntries.map(documentEntryToEbrim),
    ...m.associations.map(associationToEbrim),
    ...m.objectRefs,
  ];
}

/** `<rim:RegistryObjectList xmlns:rim=...>` in LeafClass form. */
export function writeXdsMetadataXml(m: XdsMetadata): string {
  const w = new XmlWriter();
  writeRegistryObjectList(w, xdsMetadataToEbrim(m));
  return w.toString();
}

/** Every entryUUID of the metadata, in the order written (for ObjectRef responses). */
export function entryUuidsOf(m: XdsMetadata): string[] {
  return [
    ...m.submissionSets.map((s) => s.entryUUID),
    ...m.folders.map((f) => f.entryUUID),
    ...m.documentEntries.map((d) => d.entryUUID),
    ...m.associations.map((a) => a.entryUUID),
    ...m.objectRefs.map((r) => r.id),
  ];
}

// ---------------------------------------------------------------------------------------------
// Symbolic ids

export interface AssignedIds {
  readonly metadata: XdsMetadata;
  /** symbolic id → new urn:uuid */
  readonly mapping: ReadonlyMap<string, string>;
}

/**
 * The registry's duty for submissions: every entry whose id is not a urn:uuid (a symbolic id
 * such as "Document01") gets a new urn:uuid, and associations are rewritten to use them.
 * Ids that are already urn:uuid are kept (their uniqueness is checked against the registry).
 */
export function assignEntryUuids(m: XdsMetadata, generate: () => string = newUuidUrn): AssignedIds {
  const mapping = new Map<string, string>();
  const map = (id: string): string => {
    if (isUuidUrn(id)) return id;
    let mapped = mapping.get(id);
    if (mapped === undefined) {
      mapped = generate();
      mapping.set(id, mapped);
    }
    return mapped;
  };
  // Entries first, so association endpoints resolve to the entries' new ids.
  const submissionSets = m.submissionSets.map((s) => ({ ...s, entryUUID: map(s.entryUUID) }));
  const folders = m.folders.map((f) => ({ ...f, entryUUID: map(f.entryUUID) }));
  const documentEntries = m.documentEntries.map((d) => ({ ...d, entryUUID: map(d.entryUUID) }));
  const associations = m.associations.map((a) => ({
    ...a,
    entryUUID: map(a.entryUUID),
    sourceUUID: mapping.get(a.sourceUUID) ?? a.sourceUUID,
    targetUUID: mapping.get(a.targetUUID) ?? a.targetUUID,
  }));
  const fixLid = <T extends EntryCommon>(e: T, oldId: string): T => (e.logicalId !== undefined && mapping.has(oldId) && e.logicalId === oldId ? { ...e, logicalId: e.entryUUID } : e);
  return {
    metadata: {
      submissionSets: submissionSets.map((s, i) => fixLid(s, (m.submissionSets[i] as SubmissionSet).entryUUID)),
      folders: folders.map((f, i) => fixLid(f, (m.folders[i] as Folder).entryUUID)),
      documentEntries: documentEntries.map((d, i) => fixLid(d, (m.documentEntries[i] as DocumentEntry).entryUUID)),
      associations,
      objectRefs: m.objectRefs,
    },
    mapping,
  };
}
