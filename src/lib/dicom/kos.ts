// Key Object Selection Document "Manifest" (SOP Class 1.2.840.10008.5.1.4.1.1.88.59, TID 2010) as
// XDS-I.b uses it (ihe-protocols.md §7.1): one per study, in a new series, the Patient and General
// Study attributes copied from the images, every referenced instance listed in the Current Requested
// Procedure Evidence Sequence (study → series with Retrieve AE Title + Retrieve Location UID → SOP)
// and in the content tree as IMAGE / COMPOSITE / WAVEFORM items. Written with dcmjs, which encodes
// text as UTF-8: the manifest therefore declares ISO_IR 192 whatever the images used.
import { dcmjs, type DcmjsDataset, type DcmjsElement } from './kos-dcmjs.ts';
import { DicomValueError } from './errors.ts';
import { getStorageSopClass, KEY_OBJECT_SELECTION_DOCUMENT_STORAGE } from './sop-classes.ts';
import { uidFromName, uidSyntaxProblem } from './uid.ts';

export const KOS_SOP_CLASS_UID = KEY_OBJECT_SELECTION_DOCUMENT_STORAGE;
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** Patient and study attributes as found in the images (decoded text; null = absent or empty). */
export interface KosPatientStudy {
  readonly patientName: string | null;
  readonly patientId: string | null;
  readonly issuerOfPatientId: string | null;
  readonly patientBirthDate: string | null;
  readonly patientSex: string | null;
  readonly studyInstanceUid: string;
  readonly studyDate: string | null;
  readonly studyTime: string | null;
  readonly accessionNumber: string | null;
  readonly referringPhysicianName: string | null;
  readonly studyId: string | null;
  readonly studyDescription: string | null;
}

export interface KosReferencedInstance {
  readonly seriesInstanceUid: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
}

export interface KosManifestInput {
  readonly source: KosPatientStudy;
  /** Every instance of the study to reference (order kept within each series). */
  readonly instances: readonly KosReferencedInstance[];
  /** (0008,0054) of every referenced series: the AE title the images can be retrieved from. */
  readonly retrieveAeTitle: string;
  /** (0040,E011): the XDS-I repositoryUniqueId the images are retrieved from with RAD-69. */
  readonly retrieveLocationUid: string;
  /** New series and instance UIDs; `kosUidsFromName` makes them stable across retries. */
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly seriesNumber?: number;
  readonly instanceNumber?: number;
  /** Content Date/Time (written in UTC): pass a stored time so a rebuilt manifest is byte-identical. */
  readonly contentTime: Date;
  readonly manufacturer?: string;
  /** Optional TEXT item (113012, DCM, "Key Object Description"). */
  readonly description?: string;
  /** File Meta (0002,0012) / (0002,0013): identify the writing product. */
  readonly implementationClassUid: string;
  readonly implementationVersionName?: string;
}

/** Series and SOP Instance UIDs derived from a name (e.g. a release id): a retry makes the same manifest. */
export function kosUidsFromName(name: string, root?: string): { seriesInstanceUid: string; sopInstanceUid: string } {
  return { seriesInstanceUid: uidFromName(`${name}/kos-series`, root), sopInstanceUid: uidFromName(`${name}/kos-instance`, root) };
}

// ---------------------------------------------------------------------------------------------
// Writing

function el(vr: string, ...values: unknown[]): DcmjsElement {
  return { vr, Value: values };
}

/** A type 2 element: empty when the value is unknown. */
function optional(vr: string, value: string | null | undefined): DcmjsElement {
  return value === null || value === undefined || value === '' ? { vr, Value: [] } : { vr, Value: [vr === 'PN' ? { Alphabetic: value } : value] };
}

function code(value: string, scheme: string, meaning: string): DcmjsDataset {
  return { '00080100': el('SH', value), '00080102': el('SH', scheme), '00080104': el('LO', meaning) };
}

function checkUid(field: string, uid: string): void {
  const problem = uidSyntaxProblem(uid);
  if (problem !== null) throw new DicomValueError(field, `${JSON.stringify(uid)} is not a valid UID: ${problem}`);
}

function utcDate(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}

function utcTime(d: Date): string {
  return d.toISOString().slice(11, 19).replace(/:/g, '');
}

/** The content item value type of a reference (TID 2010: IMAGE for images, WAVEFORM, COMPOSITE otherwise). */
export function kosValueTypeOf(sopClassUid: string): 'IMAGE' | 'WAVEFORM' | 'COMPOSITE' {
  const kind = getStorageSopClass(sopClassUid)?.kind;
  return kind === 'image' ? 'IMAGE' : kind === 'waveform' ? 'WAVEFORM' : 'COMPOSITE';
}

/** Builds the manifest as a DICOM Part 10 file (Explicit VR Little Endian). */
export function buildKosManifest(input: KosManifestInput): Uint8Array {
  const s = input.source;
  checkUid('studyInstanceUid', s.studyInstanceUid);
  checkUid('seriesInstanceUid', input.seriesInstanceUid);
  checkUid('sopInstanceUid', input.sopInstanceUid);
  checkUid('retrieveLocationUid', input.retrieveLocationUid);
  if (input.instances.length === 0) throw new DicomValueError('instances', 'a manifest references at least one instance');
  if (input.retrieveAeTitle.length === 0 || input.retrieveAeTitle.length > 16 || input.retrieveAeTitle.includes('\\')) {
    throw new DicomValueError('retrieveAeTitle', `${JSON.stringify(input.retrieveAeTitle)} is not an AE title (1-16 characters)`);
  }
  const bySeries = new Map<string, KosReferencedInstance[]>();
  for (const i of input.instances) {
    checkUid('sopInstanceUid', i.sopInstanceUid);
    checkUid('sopClassUid', i.sopClassUid);
    checkUid('seriesInstanceUid', i.seriesInstanceUid);
    if (i.seriesInstanceUid === input.seriesInstanceUid) throw new DicomValueError('seriesInstanceUid', 'the manifest must be in a new series, not one of the images');
    const list = bySeries.get(i.seriesInstanceUid) ?? [];
    list.push(i);
    bySeries.set(i.seriesInstanceUid, list);
  }
  const sopRef = (i: KosReferencedInstance): DcmjsDataset => ({ '00081150': el('UI', i.sopClassUid), '00081155': el('UI', i.sopInstanceUid) });

  const evidence: DcmjsDataset = {
    '0020000D': el('UI', s.studyInstanceUid),
    '00081115': el(
      'SQ',
      ...[...bySeries].map(([seriesUid, instances]) => ({
        '00080054': el('AE', input.retrieveAeTitle),
        '0020000E': el('UI', seriesUid),
        '0040E011': el('UI', input.retrieveLocationUid),
        '00081199': el('SQ', ...instances.map(sopRef)),
      })),
    ),
  };
  const content: DcmjsDataset[] = [];
  if (input.description) {
    content.push({
      '0040A010': el('CS', 'CONTAINS'),
      '0040A040': el('CS', 'TEXT'),
      '0040A043': el('SQ', code('113012', 'DCM', 'Key Object Description')),
      '0040A160': el('UT', input.description),
    });
  }
  for (const instances of bySeries.values()) {
    for (const i of instances) content.push({ '0040A010': el('CS', 'CONTAINS'), '0040A040': el('CS', kosValueTypeOf(i.sopClassUid)), '00081199': el('SQ', sopRef(i)) });
  }

  const dataset: DcmjsDataset = {
    '00080005': el('CS', 'ISO_IR 192'),
    '00080016': el('UI', KOS_SOP_CLASS_UID),
    '00080018': el('UI', input.sopInstanceUid),
    '00080020': optional('DA', s.studyDate),
    '00080023': el('DA', utcDate(input.contentTime)),
    '00080030': optional('TM', s.studyTime),
    '00080033': el('TM', utcTime(input.contentTime)),
    '00080050': optional('SH', s.accessionNumber),
    '00080060': el('CS', 'KO'),
    '00080070': optional('LO', input.manufacturer),
    '00080090': optional('PN', s.referringPhysicianName),
    '00081111': { vr: 'SQ', Value: [] },
    '00100010': optional('PN', s.patientName),
    '00100020': optional('LO', s.patientId),
    '00100030': optional('DA', s.patientBirthDate),
    '00100040': optional('CS', s.patientSex),
    '0020000D': el('UI', s.studyInstanceUid),
    '0020000E': el('UI', input.seriesInstanceUid),
    '00200010': optional('SH', s.studyId),
    '00200011': el('IS', input.seriesNumber ?? 999),
    '00200013': el('IS', input.instanceNumber ?? 1),
    '0040A040': el('CS', 'CONTAINER'),
    '0040A043': el('SQ', code('113030', 'DCM', 'Manifest')),
    '0040A050': el('CS', 'SEPARATE'),
    '0040A375': el('SQ', evidence),
    '0040A504': el('SQ', { '00080105': el('CS', 'DCMR'), '0040DB00': el('CS', '2010') }),
    '0040A730': el('SQ', ...content),
  };
  if (s.issuerOfPatientId) dataset['00100021'] = el('LO', s.issuerOfPatientId);
  if (s.studyDescription) dataset['00081030'] = el('LO', s.studyDescription);

  const meta: DcmjsDataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': el('UI', KOS_SOP_CLASS_UID),
    '00020003': el('UI', input.sopInstanceUid),
    '00020010': el('UI', EXPLICIT_VR_LITTLE_ENDIAN),
    '00020012': el('UI', input.implementationClassUid),
  };
  if (input.implementationVersionName) meta['00020013'] = el('SH', input.implementationVersionName);
  const file = new dcmjs.data.DicomDict(meta);
  file.dict = dataset;
  return new Uint8Array(file.write());
}

// ---------------------------------------------------------------------------------------------
// Reading (the consumer side: which instances to retrieve, and from where)

export interface KosReference extends KosReferencedInstance {
  readonly studyInstanceUid: string;
  readonly retrieveAeTitle: string | null;
  readonly retrieveLocationUid: string | null;
}

export interface KosManifest {
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly patientId: string | null;
  readonly references: readonly KosReference[];
}

export class KosReadError extends Error {
  readonly code = 'KOS_READ_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KosReadError';
  }
}

function first(ds: DcmjsDataset | undefined, tag: string): string | null {
  const v = ds?.[tag]?.Value?.[0];
  return typeof v === 'string' && v !== '' ? v : null;
}

function items(ds: DcmjsDataset | undefined, tag: string): DcmjsDataset[] {
  return (ds?.[tag]?.Value ?? []).filter((x): x is DcmjsDataset => typeof x === 'object' && x !== null);
}

/** Reads a manifest's identity and its Current Requested Procedure Evidence references. */
export function readKosManifest(part10: Uint8Array): KosManifest {
  let dict: DcmjsDataset;
  try {
    const copy = part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer;
    dict = dcmjs.data.DicomMessage.readFile(copy).dict;
  } catch (err) {
    throw new KosReadError(`not a readable DICOM Part 10 file: ${(err as Error).message}`, { cause: err });
  }
  if (first(dict, '00080016') !== KOS_SOP_CLASS_UID) throw new KosReadError(`not a Key Object Selection Document (SOP Class ${first(dict, '00080016') ?? 'missing'})`);
  const sopInstanceUid = first(dict, '00080018');
  const studyInstanceUid = first(dict, '0020000D');
  if (!sopInstanceUid || !studyInstanceUid) throw new KosReadError('the manifest has no SOP Instance UID or Study Instance UID');
  const references: KosReference[] = [];
  for (const study of items(dict, '0040A375')) {
    const studyUid = first(study, '0020000D') ?? studyInstanceUid;
    for (const series of items(study, '00081115')) {
      const seriesInstanceUid = first(series, '0020000E');
      if (!seriesInstanceUid) throw new KosReadError('a referenced series has no Series Instance UID');
      for (const sop of items(series, '00081199')) {
        const sopClassUid = first(sop, '00081150');
        const sopUid = first(sop, '00081155');
        if (!sopClassUid || !sopUid) throw new KosReadError(`a reference in series ${seriesInstanceUid} lacks its SOP Class or Instance UID`);
        references.push({
          studyInstanceUid: studyUid,
          seriesInstanceUid,
          sopClassUid,
          sopInstanceUid: sopUid,
          retrieveAeTitle: first(series, '00080054'),
          retrieveLocationUid: first(series, '0040E011'),
        });
      }
    }
  }
  return { sopInstanceUid, studyInstanceUid, patientId: first(dict, '00100020'), references };
}
