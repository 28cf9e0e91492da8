// A deliberately small data dictionary (PS3.6): the attributes that appear in query/retrieve
// identifiers and DIMSE responses. It gives keywords to decoded identifiers and VRs to Implicit VR
// data. Anything not listed decodes under its tag ("ggggeeee") with VR UN.

export type Vr =
  | 'AE' | 'AS' | 'AT' | 'CS' | 'DA' | 'DS' | 'DT' | 'FD' | 'FL' | 'IS' | 'LO' | 'LT' | 'OB' | 'OD' | 'OF' | 'OL' | 'OV' | 'OW'
  | 'PN' | 'SH' | 'SL' | 'SQ' | 'SS' | 'ST' | 'SV' | 'TM' | 'UC' | 'UI' | 'UL' | 'UN' | 'UR' | 'US' | 'UT' | 'UV';

export const ALL_VRS: ReadonlySet<string> = new Set<Vr>([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

export interface DictionaryEntry {
  tag: number;
  keyword: string;
  vr: Vr;
}

const entries: ReadonlyArray<readonly [number, string, Vr]> = [
  [0x00020000, 'FileMetaInformationGroupLength', 'UL'],
  [0x00020001, 'FileMetaInformationVersion', 'OB'],
  [0x00020002, 'MediaStorageSOPClassUID', 'UI'],
  [0x00020003, 'MediaStorageSOPInstanceUID', 'UI'],
  [0x00020010, 'TransferSyntaxUID', 'UI'],
  [0x00020012, 'ImplementationClassUID', 'UI'],
  [0x00020013, 'ImplementationVersionName', 'SH'],
  [0x00020016, 'SourceApplicationEntityTitle', 'AE'],
  [0x00080005, 'SpecificCharacterSet', 'CS'],
  [0x00080008, 'ImageType', 'CS'],
  [0x00080012, 'InstanceCreationDate', 'DA'],
  [0x00080013, 'InstanceCreationTime', 'TM'],
  [0x00080016, 'SOPClassUID', 'UI'],
  [0x00080018, 'SOPInstanceUID', 'UI'],
  [0x00080020, 'StudyDate', 'DA'],
  [0x00080021, 'SeriesDate', 'DA'],
  [0x00080022, 'AcquisitionDate', 'DA'],
  [0x00080023, 'ContentDate', 'DA'],
  [0x00080030, 'StudyTime', 'TM'],
  [0x00080031, 'SeriesTime', 'TM'],
  [0x00080032, 'AcquisitionTime', 'TM'],
  [0x00080033, 'ContentTime', 'TM'],
  [0x00080050, 'AccessionNumber', 'SH'],
  [0x00080051, 'IssuerOfAccessionNumberSequence', 'SQ'],
  [0x00080052, 'QueryRetrieveLevel', 'CS'],
  [0x00080054, 'RetrieveAETitle', 'AE'],
  [0x00080056, 'InstanceAvailability', 'CS'],
  [0x00080058, 'FailedSOPInstanceUIDList', 'UI'],
  [0x00080060, 'Modality', 'CS'],
  [0x00080061, 'ModalitiesInStudy', 'CS'],
  [0x00080062, 'SOPClassesInStudy', 'UI'],
  [0x00080070, 'Manufacturer', 'LO'],
  [0x00080080, 'InstitutionName', 'LO'],
  [0x00080090, 'ReferringPhysicianName', 'PN'],
  [0x00080201, 'TimezoneOffsetFromUTC', 'SH'],
  [0x00081010, 'StationName', 'SH'],
  [0x00081030, 'StudyDescription', 'LO'],
  [0x0008103e, 'SeriesDescription', 'LO'],
  [0x00081090, 'ManufacturerModelName', 'LO'],
  [0x00081150, 'ReferencedSOPClassUID', 'UI'],
  [0x00081155, 'ReferencedSOPInstanceUID', 'UI'],
  [0x00081199, 'ReferencedSOPSequence', 'SQ'],
  [0x00100010, 'PatientName', 'PN'],
  [0x00100020, 'PatientID', 'LO'],
  [0x00100021, 'IssuerOfPatientID', 'LO'],
  [0x00100030, 'PatientBirthDate', 'DA'],
  [0x00100040, 'PatientSex', 'CS'],
  [0x00101000, 'OtherPatientIDs', 'LO'],
  [0x00101002, 'OtherPatientIDsSequence', 'SQ'],
  [0x00101010, 'PatientAge', 'AS'],
  [0x00180015, 'BodyPartExamined', 'CS'],
  [0x00181030, 'ProtocolName', 'LO'],
  [0x0020000d, 'StudyInstanceUID', 'UI'],
  [0x0020000e, 'SeriesInstanceUID', 'UI'],
  [0x00200010, 'StudyID', 'SH'],
  [0x00200011, 'SeriesNumber', 'IS'],
  [0x00200013, 'InstanceNumber', 'IS'],
  [0x00201200, 'NumberOfPatientRelatedStudies', 'IS'],
  [0x00201202, 'NumberOfPatientRelatedSeries', 'IS'],
  [0x00201204, 'NumberOfPatientRelatedInstances', 'IS'],
  [0x00201206, 'NumberOfStudyRelatedSeries', 'IS'],
  [0x00201208, 'NumberOfStudyRelatedInstances', 'IS'],
  [0x00201209, 'NumberOfSeriesRelatedInstances', 'IS'],
  [0x00280002, 'SamplesPerPixel', 'US'],
  [0x00280004, 'PhotometricInterpretation', 'CS'],
  [0x00280008, 'NumberOfFrames', 'IS'],
  [0x00280010, 'Rows', 'US'],
  [0x00280011, 'Columns', 'US'],
  [0x00280100, 'BitsAllocated', 'US'],
  [0x00280101, 'BitsStored', 'US'],
  [0x00280102, 'HighBit', 'US'],
  [0x00280103, 'PixelRepresentation', 'US'],
  [0x0032000a, 'StudyStatusID', 'CS'],
  [0x00321032, 'RequestingPhysician', 'PN'],
  [0x00321060, 'RequestedProcedureDescription', 'LO'],
  [0x00400244, 'PerformedProcedureStepStartDate', 'DA'],
  [0x00400245, 'PerformedProcedureStepStartTime', 'TM'],
  [0x0040a730, 'ContentSequence', 'SQ'],
  [0x00880140, 'StorageMediaFileSetUID', 'UI'],
  [0x7fe00010, 'PixelData', 'OW'],
];

const byTag = new Map<number, DictionaryEntry>();
const byKeyword = new Map<string, DictionaryEntry>();
for (const [tag, keyword, vr] of entries) {
  const entry = { tag, keyword, vr };
  byTag.set(tag, entry);
  byKeyword.set(keyword, entry);
}

export function lookupTag(tag: number): DictionaryEntry | undefined {
  const entry = byTag.get(tag);
  if (entry) return entry;
  const element = tag & 0xffff;
  // Group length elements are UL in every group.
  if (element === 0x0000) return { tag, keyword: tagToHex(tag), vr: 'UL' };
  return undefined;
}

export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  return byKeyword.get(keyword);
}

/** "0010,0020" or "00100020" or a dictionary keyword to a numeric tag. */
export function parseTag(tagOrKeyword: string | number): number | undefined {
  if (typeof tagOrKeyword === 'number') return tagOrKeyword >>> 0;
  const hex = tagOrKeyword.replace(/[(),\s]/g, '');
  if (/^[0-9a-fA-F]{8}$/.test(hex)) return parseInt(hex, 16) >>> 0;
  return lookupKeyword(tagOrKeyword)?.tag;
}

export function tagToHex(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
