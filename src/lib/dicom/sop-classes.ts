// Standard Storage SOP Classes (PS3.4 Annex B, PS3.6 Annex A), current and retired, plus the
// Verification and Query/Retrieve SOP Classes the DIMSE layer negotiates. Whether private SOP classes
// are accepted is the caller's policy: `isStorageSopClass` answers only for standard UIDs.

export type StorageSopClassKind =
  | 'image'
  | 'structured-report'
  | 'encapsulated-document'
  | 'presentation-state'
  | 'waveform'
  | 'radiotherapy'
  /** Registration, fiducials, measurements, raw data, surfaces and other patient-level non-image objects. */
  | 'other'
  /** Non-patient objects (hanging protocols, colour palettes, implant templates, protocols, inventories). */
  | 'non-patient';

export interface StorageSopClass {
  readonly uid: string;
  readonly name: string;
  readonly kind: StorageSopClassKind;
  readonly retired: boolean;
}

const S = '1.2.840.10008.5.1.4.1.1';

type Row = readonly [uid: string, name: string, kind: StorageSopClassKind, retired?: 'retired'];

const ROWS: readonly Row[] = [
  // Projection radiography
  [`${S}.1`, 'Computed Radiography Image Storage', 'image'],
  [`${S}.1.1`, 'Digital X-Ray Image Storage - For Presentation', 'image'],
  [`${S}.1.1.1`, 'Digital X-Ray Image Storage - For Processing', 'image'],
  [`${S}.1.2`, 'Digital Mammography X-Ray Image Storage - For Presentation', 'image'],
  [`${S}.1.2.1`, 'Digital Mammography X-Ray Image Storage - For Processing', 'image'],
  [`${S}.1.3`, 'Digital Intra-Oral X-Ray Image Storage - For Presentation', 'image'],
  [`${S}.1.3.1`, 'Digital Intra-Oral X-Ray Image Storage - For Processing', 'image'],
  // CT and MR
  [`${S}.2`, 'CT Image Storage', 'image'],
  [`${S}.2.1`, 'Enhanced CT Image Storage', 'image'],
  [`${S}.2.2`, 'Legacy Converted Enhanced CT Image Storage', 'image'],
  [`${S}.4`, 'MR Image Storage', 'image'],
  [`${S}.4.1`, 'Enhanced MR Image Storage', 'image'],
  [`${S}.4.2`, 'MR Spectroscopy Storage', 'other'],
  [`${S}.4.3`, 'Enhanced MR Color Image Storage', 'image'],
  [`${S}.4.4`, 'Legacy Converted Enhanced MR Image Storage', 'image'],
  // Ultrasound
  [`${S}.3`, 'Ultrasound Multi-frame Image Storage (Retired)', 'image', 'retired'],
  [`${S}.3.1`, 'Ultrasound Multi-frame Image Storage', 'image'],
  [`${S}.6`, 'Ultrasound Image Storage (Retired)', 'image', 'retired'],
  [`${S}.6.1`, 'Ultrasound Image Storage', 'image'],
  [`${S}.6.2`, 'Enhanced US Volume Storage', 'image'],
  [`${S}.6.3`, 'Photoacoustic Image Storage', 'image'],
  // Nuclear medicine and PET
  [`${S}.5`, 'Nuclear Medicine Image Storage (Retired)', 'image', 'retired'],
  [`${S}.20`, 'Nuclear Medicine Image Storage', 'image'],
  [`${S}.128`, 'Positron Emission Tomography Image Storage', 'image'],
  [`${S}.128.1`, 'Legacy Converted Enhanced PET Image Storage', 'image'],
  [`${S}.130`, 'Enhanced PET Image Storage', 'image'],
  [`${S}.129`, 'Standalone PET Curve Storage', 'other', 'retired'],
  // Secondary capture
  [`${S}.7`, 'Secondary Capture Image Storage', 'image'],
  [`${S}.7.1`, 'Multi-frame Single Bit Secondary Capture Image Storage', 'image'],
  [`${S}.7.2`, 'Multi-frame Grayscale Byte Secondary Capture Image Storage', 'image'],
  [`${S}.7.3`, 'Multi-frame Grayscale Word Secondary Capture Image Storage', 'image'],
  [`${S}.7.4`, 'Multi-frame True Color Secondary Capture Image Storage', 'image'],
  // Retired stand-alone objects
  [`${S}.8`, 'Standalone Overlay Storage', 'other', 'retired'],
  [`${S}.9`, 'Standalone Curve Storage', 'other', 'retired'],
  [`${S}.10`, 'Standalone Modality LUT Storage', 'other', 'retired'],
  [`${S}.11`, 'Standalone VOI LUT Storage', 'other', 'retired'],
  // Waveforms
  [`${S}.9.1`, 'Waveform Storage - Trial', 'waveform', 'retired'],
  [`${S}.9.1.1`, '12-lead ECG Waveform Storage', 'waveform'],
  [`${S}.9.1.2`, 'General ECG Waveform Storage', 'waveform'],
  [`${S}.9.1.3`, 'Ambulatory ECG Waveform Storage', 'waveform'],
  [`${S}.9.1.4`, 'General 32-bit ECG Waveform Storage', 'waveform'],
  [`${S}.9.2.1`, 'Hemodynamic Waveform Storage', 'waveform'],
  [`${S}.9.3.1`, 'Cardiac Electrophysiology Waveform Storage', 'waveform'],
  [`${S}.9.4.1`, 'Basic Voice Audio Waveform Storage', 'waveform'],
  [`${S}.9.4.2`, 'General Audio Waveform Storage', 'waveform'],
  [`${S}.9.5.1`, 'Arterial Pulse Waveform Storage', 'waveform'],
  [`${S}.9.6.1`, 'Respiratory Waveform Storage', 'waveform'],
  [`${S}.9.6.2`, 'Multi-channel Respiratory Waveform Storage', 'waveform'],
  [`${S}.9.7.1`, 'Routine Scalp Electroencephalogram Waveform Storage', 'waveform'],
  [`${S}.9.7.2`, 'Electromyogram Waveform Storage', 'waveform'],
  [`${S}.9.7.3`, 'Electrooculogram Waveform Storage', 'waveform'],
  [`${S}.9.7.4`, 'Sleep Electroencephalogram Waveform Storage', 'waveform'],
  [`${S}.9.8.1`, 'Body Position Waveform Storage', 'waveform'],
  // Presentation states
  [`${S}.11.1`, 'Grayscale Softcopy Presentation State Storage', 'presentation-state'],
  [`${S}.11.2`, 'Color Softcopy Presentation State Storage', 'presentation-state'],
  [`${S}.11.3`, 'Pseudo-Color Softcopy Presentation State Storage', 'presentation-state'],
  [`${S}.11.4`, 'Blending Softcopy Presentation State Storage', 'presentation-state'],
  [`${S}.11.5`, 'XA/XRF Grayscale Softcopy Presentation State Storage', 'presentation-state'],
  [`${S}.11.6`, 'Grayscale Planar MPR Volumetric Presentation State Storage', 'presentation-state'],
  [`${S}.11.7`, 'Compositing Planar MPR Volumetric Presentation State Storage', 'presentation-state'],
  [`${S}.11.8`, 'Advanced Blending Presentation State Storage', 'presentation-state'],
  [`${S}.11.9`, 'Volume Rendering Volumetric Presentation State Storage', 'presentation-state'],
  [`${S}.11.10`, 'Segmented Volume Rendering Volumetric Presentation State Storage', 'presentation-state'],
  [`${S}.11.11`, 'Multiple Volume Rendering Volumetric Presentation State Storage', 'presentation-state'],
  [`${S}.11.12`, 'Variable Modality LUT Softcopy Presentation State Storage', 'presentation-state'],
  [`${S}.131`, 'Basic Structured Display Storage', 'presentation-state'],
  // X-ray angiography, fluoroscopy, 3D X-ray, tomosynthesis
  [`${S}.12.1`, 'X-Ray Angiographic Image Storage', 'image'],
  [`${S}.12.1.1`, 'Enhanced XA Image Storage', 'image'],
  [`${S}.12.2`, 'X-Ray Radiofluoroscopic Image Storage', 'image'],
  [`${S}.12.2.1`, 'Enhanced XRF Image Storage', 'image'],
  [`${S}.12.3`, 'X-Ray Angiographic Bi-Plane Image Storage', 'image', 'retired'],
  [`${S}.13.1.1`, 'X-Ray 3D Angiographic Image Storage', 'image'],
  [`${S}.13.1.2`, 'X-Ray 3D Craniofacial Image Storage', 'image'],
  [`${S}.13.1.3`, 'Breast Tomosynthesis Image Storage', 'image'],
  [`${S}.13.1.4`, 'Breast Projection X-Ray Image Storage - For Presentation', 'image'],
  [`${S}.13.1.5`, 'Breast Projection X-Ray Image Storage - For Processing', 'image'],
  [`${S}.14.1`, 'Intravascular Optical Coherence Tomography Image Storage - For Presentation', 'image'],
  [`${S}.14.2`, 'Intravascular Optical Coherence Tomography Image Storage - For Processing', 'image'],
  // Quantitative, registration, segmentation and other derived objects
  [`${S}.30`, 'Parametric Map Storage', 'image'],
  [`${S}.66`, 'Raw Data Storage', 'other'],
  [`${S}.66.1`, 'Spatial Registration Storage', 'other'],
  [`${S}.66.2`, 'Spatial Fiducials Storage', 'other'],
  [`${S}.66.3`, 'Deformable Spatial Registration Storage', 'other'],
  [`${S}.66.4`, 'Segmentation Storage', 'image'],
  [`${S}.66.5`, 'Surface Segmentation Storage', 'other'],
  [`${S}.66.6`, 'Tractography Results Storage', 'other'],
  [`${S}.66.7`, 'Label Map Segmentation Storage', 'image'],
  [`${S}.66.8`, 'Height Map Segmentation Storage', 'image'],
  [`${S}.67`, 'Real World Value Mapping Storage', 'other'],
  [`${S}.68.1`, 'Surface Scan Mesh Storage', 'other'],
  [`${S}.68.2`, 'Surface Scan Point Cloud Storage', 'other'],
  // Visible light, microscopy and ophthalmology
  [`${S}.77.1`, 'VL Image Storage - Trial', 'image', 'retired'],
  [`${S}.77.2`, 'VL Multi-frame Image Storage - Trial', 'image', 'retired'],
  [`${S}.77.1.1`, 'VL Endoscopic Image Storage', 'image'],
  [`${S}.77.1.1.1`, 'Video Endoscopic Image Storage', 'image'],
  [`${S}.77.1.2`, 'VL Microscopic Image Storage', 'image'],
  [`${S}.77.1.2.1`, 'Video Microscopic Image Storage', 'image'],
  [`${S}.77.1.3`, 'VL Slide-Coordinates Microscopic Image Storage', 'image'],
  [`${S}.77.1.4`, 'VL Photographic Image Storage', 'image'],
  [`${S}.77.1.4.1`, 'Video Photographic Image Storage', 'image'],
  [`${S}.77.1.5.1`, 'Ophthalmic Photography 8 Bit Image Storage', 'image'],
  [`${S}.77.1.5.2`, 'Ophthalmic Photography 16 Bit Image Storage', 'image'],
  [`${S}.77.1.5.3`, 'Stereometric Relationship Storage', 'other'],
  [`${S}.77.1.5.4`, 'Ophthalmic Tomography Image Storage', 'image'],
  [`${S}.77.1.5.5`, 'Wide Field Ophthalmic Photography Stereographic Projection Image Storage', 'image'],
  [`${S}.77.1.5.6`, 'Wide Field Ophthalmic Photography 3D Coordinates Image Storage', 'image'],
  [`${S}.77.1.5.7`, 'Ophthalmic Optical Coherence Tomography En Face Image Storage', 'image'],
  [`${S}.77.1.5.8`, 'Ophthalmic Optical Coherence Tomography B-scan Volume Analysis Storage', 'image'],
  [`${S}.77.1.6`, 'VL Whole Slide Microscopy Image Storage', 'image'],
  [`${S}.77.1.7`, 'Dermoscopic Photography Image Storage', 'image'],
  [`${S}.77.1.8`, 'Confocal Microscopy Image Storage', 'image'],
  [`${S}.77.1.9`, 'Confocal Microscopy Tiled Pyramidal Image Storage', 'image'],
  [`${S}.78.1`, 'Lensometry Measurements Storage', 'other'],
  [`${S}.78.2`, 'Autorefraction Measurements Storage', 'other'],
  [`${S}.78.3`, 'Keratometry Measurements Storage', 'other'],
  [`${S}.78.4`, 'Subjective Refraction Measurements Storage', 'other'],
  [`${S}.78.5`, 'Visual Acuity Measurements Storage', 'other'],
  [`${S}.78.6`, 'Spectacle Prescription Report Storage', 'other'],
  [`${S}.78.7`, 'Ophthalmic Axial Measurements Storage', 'other'],
  [`${S}.78.8`, 'Intraocular Lens Calculations Storage', 'other'],
  [`${S}.79.1`, 'Macular Grid Thickness and Volume Report Storage', 'structured-report'],
  [`${S}.80.1`, 'Ophthalmic Visual Field Static Perimetry Measurements Storage', 'other'],
  [`${S}.81.1`, 'Ophthalmic Thickness Map Storage', 'image'],
  [`${S}.82.1`, 'Corneal Topography Map Storage', 'image'],
  // Structured reports
  [`${S}.88.1`, 'Text SR Storage - Trial', 'structured-report', 'retired'],
  [`${S}.88.2`, 'Audio SR Storage - Trial', 'structured-report', 'retired'],
  [`${S}.88.3`, 'Detail SR Storage - Trial', 'structured-report', 'retired'],
  [`${S}.88.4`, 'Comprehensive SR Storage - Trial', 'structured-report', 'retired'],
  [`${S}.88.11`, 'Basic Text SR Storage', 'structured-report'],
  [`${S}.88.22`, 'Enhanced SR Storage', 'structured-report'],
  [`${S}.88.33`, 'Comprehensive SR Storage', 'structured-report'],
  [`${S}.88.34`, 'Comprehensive 3D SR Storage', 'structured-report'],
  [`${S}.88.35`, 'Extensible SR Storage', 'structured-report'],
  [`${S}.88.40`, 'Procedure Log Storage', 'structured-report'],
  [`${S}.88.50`, 'Mammography CAD SR Storage', 'structured-report'],
  [`${S}.88.59`, 'Key Object Selection Document Storage', 'structured-report'],
  [`${S}.88.65`, 'Chest CAD SR Storage', 'structured-report'],
  [`${S}.88.67`, 'X-Ray Radiation Dose SR Storage', 'structured-report'],
  [`${S}.88.68`, 'Radiopharmaceutical Radiation Dose SR Storage', 'structured-report'],
  [`${S}.88.69`, 'Colon CAD SR Storage', 'structured-report'],
  [`${S}.88.70`, 'Implantation Plan SR Storage', 'structured-report'],
  [`${S}.88.71`, 'Acquisition Context SR Storage', 'structured-report'],
  [`${S}.88.72`, 'Simplified Adult Echo SR Storage', 'structured-report'],
  [`${S}.88.73`, 'Patient Radiation Dose SR Storage', 'structured-report'],
  [`${S}.88.74`, 'Planned Imaging Agent Administration SR Storage', 'structured-report'],
  [`${S}.88.75`, 'Performed Imaging Agent Administration SR Storage', 'structured-report'],
  [`${S}.88.76`, 'Enhanced X-Ray Radiation Dose SR Storage', 'structured-report'],
  [`${S}.88.77`, 'Waveform Annotation SR Storage', 'structured-report'],
  [`${S}.90.1`, 'Content Assessment Results Storage', 'other'],
  [`${S}.91.1`, 'Microscopy Bulk Simple Annotations Storage', 'other'],
  // Encapsulated documents
  [`${S}.104.1`, 'Encapsulated PDF Storage', 'encapsulated-document'],
  [`${S}.104.2`, 'Encapsulated CDA Storage', 'encapsulated-document'],
  [`${S}.104.3`, 'Encapsulated STL Storage', 'encapsulated-document'],
  [`${S}.104.4`, 'Encapsulated OBJ Storage', 'encapsulated-document'],
  [`${S}.104.5`, 'Encapsulated MTL Storage', 'encapsulated-document'],
  // Protocols and inventories
  [`${S}.200.1`, 'CT Defined Procedure Protocol Storage', 'non-patient'],
  [`${S}.200.2`, 'CT Performed Procedure Protocol Storage', 'other'],
  [`${S}.200.3`, 'Protocol Approval Storage', 'non-patient'],
  [`${S}.200.7`, 'XA Defined Procedure Protocol Storage', 'non-patient'],
  [`${S}.200.8`, 'XA Performed Procedure Protocol Storage', 'other'],
  [`${S}.201.1`, 'Inventory Storage', 'non-patient'],
  // Radiotherapy
  [`${S}.481.1`, 'RT Image Storage', 'radiotherapy'],
  [`${S}.481.2`, 'RT Dose Storage', 'radiotherapy'],
  [`${S}.481.3`, 'RT Structure Set Storage', 'radiotherapy'],
  [`${S}.481.4`, 'RT Beams Treatment Record Storage', 'radiotherapy'],
  [`${S}.481.5`, 'RT Plan Storage', 'radiotherapy'],
  [`${S}.481.6`, 'RT Brachy Treatment Record Storage', 'radiotherapy'],
  [`${S}.481.7`, 'RT Treatment Summary Record Storage', 'radiotherapy'],
  [`${S}.481.8`, 'RT Ion Plan Storage', 'radiotherapy'],
  [`${S}.481.9`, 'RT Ion Beams Treatment Record Storage', 'radiotherapy'],
  [`${S}.481.10`, 'RT Physician Intent Storage', 'radiotherapy'],
  [`${S}.481.11`, 'RT Segment Annotation Storage', 'radiotherapy'],
  [`${S}.481.12`, 'RT Radiation Set Storage', 'radiotherapy'],
  [`${S}.481.13`, 'C-Arm Photon-Electron Radiation Storage', 'radiotherapy'],
  [`${S}.481.14`, 'Tomotherapeutic Radiation Storage', 'radiotherapy'],
  [`${S}.481.15`, 'Robotic-Arm Radiation Storage', 'radiotherapy'],
  [`${S}.481.16`, 'RT Radiation Record Set Storage', 'radiotherapy'],
  [`${S}.481.17`, 'RT Radiation Salvage Record Storage', 'radiotherapy'],
  [`${S}.481.18`, 'Tomotherapeutic Radiation Record Storage', 'radiotherapy'],
  [`${S}.481.19`, 'C-Arm Photon-Electron Radiation Record Storage', 'radiotherapy'],
  [`${S}.481.20`, 'Robotic Radiation Record Storage', 'radiotherapy'],
  [`${S}.481.21`, 'RT Radiation Set Delivery Instruction Storage', 'radiotherapy'],
  [`${S}.481.22`, 'RT Treatment Preparation Storage', 'radiotherapy'],
  [`${S}.481.23`, 'Enhanced RT Image Storage', 'radiotherapy'],
  [`${S}.481.24`, 'Enhanced Continuous RT Image Storage', 'radiotherapy'],
  [`${S}.481.25`, 'RT Patient Position Acquisition Instruction Storage', 'radiotherapy'],
  ['1.2.840.10008.5.1.4.34.1', 'RT Beams Delivery Instruction Storage - Trial', 'radiotherapy', 'retired'],
  ['1.2.840.10008.5.1.4.34.7', 'RT Beams Delivery Instruction Storage', 'radiotherapy'],
  ['1.2.840.10008.5.1.4.34.10', 'RT Brachy Application Setup Delivery Instruction Storage', 'radiotherapy'],
  // Security screening (DICOS) and non-destructive evaluation (DICONDE), registered in PS3.6
  [`${S}.501.1`, 'DICOS CT Image Storage', 'image'],
  [`${S}.501.2.1`, 'DICOS Digital X-Ray Image Storage - For Presentation', 'image'],
  [`${S}.501.2.2`, 'DICOS Digital X-Ray Image Storage - For Processing', 'image'],
  [`${S}.501.3`, 'DICOS Threat Detection Report Storage', 'other'],
  [`${S}.501.4`, 'DICOS 2D AIT Storage', 'image'],
  [`${S}.501.5`, 'DICOS 3D AIT Storage', 'image'],
  [`${S}.501.6`, 'DICOS Quadrupole Resonance (QR) Storage', 'other'],
  [`${S}.601.1`, 'Eddy Current Image Storage', 'image'],
  [`${S}.601.2`, 'Eddy Current Multi-frame Image Storage', 'image'],
  [`${S}.601.3`, 'Thermography Image Storage', 'image'],
  [`${S}.601.4`, 'Thermography Multi-frame Image Storage', 'image'],
  // Non-patient objects
  ['1.2.840.10008.5.1.4.38.1', 'Hanging Protocol Storage', 'non-patient'],
  ['1.2.840.10008.5.1.4.39.1', 'Color Palette Storage', 'non-patient'],
  ['1.2.840.10008.5.1.4.43.1', 'Generic Implant Template Storage', 'non-patient'],
  ['1.2.840.10008.5.1.4.44.1', 'Implant Assembly Template Storage', 'non-patient'],
  ['1.2.840.10008.5.1.4.45.1', 'Implant Template Group Storage', 'non-patient'],
  // Retired print-related storage
  ['1.2.840.10008.5.1.1.27', 'Stored Print Storage', 'other', 'retired'],
  ['1.2.840.10008.5.1.1.29', 'Hardcopy Grayscale Image Storage', 'image', 'retired'],
  ['1.2.840.10008.5.1.1.30', 'Hardcopy Color Image Storage', 'image', 'retired'],
];

export const STORAGE_SOP_CLASSES: readonly StorageSopClass[] = ROWS.map(([uid, name, kind, retired]) => ({
  uid,
  name,
  kind,
  retired: retired === 'retired',
}));

const STORAGE_BY_UID: ReadonlyMap<string, StorageSopClass> = new Map(STORAGE_SOP_CLASSES.map((c) => [c.uid, c]));

/** True for a standard (current or retired) Storage SOP Class UID. Private classes return false. */
export function isStorageSopClass(uid: string): boolean {
  return STORAGE_BY_UID.has(uid);
}

export function getStorageSopClass(uid: string): StorageSopClass | undefined {
  return STORAGE_BY_UID.get(uid);
}

// Frequently referenced Storage SOP Classes by name, for code that builds or checks objects.
export const CT_IMAGE_STORAGE = `${S}.2`;
export const MR_IMAGE_STORAGE = `${S}.4`;
export const SECONDARY_CAPTURE_IMAGE_STORAGE = `${S}.7`;
export const ENCAPSULATED_PDF_STORAGE = `${S}.104.1`;
export const ENCAPSULATED_CDA_STORAGE = `${S}.104.2`;
export const BASIC_TEXT_SR_STORAGE = `${S}.88.11`;
export const ENHANCED_SR_STORAGE = `${S}.88.22`;
export const COMPREHENSIVE_SR_STORAGE = `${S}.88.33`;
export const KEY_OBJECT_SELECTION_DOCUMENT_STORAGE = `${S}.88.59`;
export const GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE = `${S}.11.1`;

// ---------------------------------------------------------------------------------------------
// Verification and Query/Retrieve (PS3.4 Annex A and C).

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';
export const STORAGE_COMMITMENT_PUSH_MODEL_SOP_CLASS = '1.2.840.10008.1.20.1';

export const QUERY_RETRIEVE_SOP_CLASSES = {
  patientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  patientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  patientRootGet: '1.2.840.10008.5.1.4.1.2.1.3',
  studyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  studyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
  studyRootGet: '1.2.840.10008.5.1.4.1.2.2.3',
  /** Retired (PS3.4 2004+), still sent by old equipment. */
  patientStudyOnlyFind: '1.2.840.10008.5.1.4.1.2.3.1',
  patientStudyOnlyMove: '1.2.840.10008.5.1.4.1.2.3.2',
  patientStudyOnlyGet: '1.2.840.10008.5.1.4.1.2.3.3',
  compositeInstanceRootMove: '1.2.840.10008.5.1.4.1.2.4.2',
  compositeInstanceRootGet: '1.2.840.10008.5.1.4.1.2.4.3',
  compositeInstanceWithoutBulkDataGet: '1.2.840.10008.5.1.4.1.2.5.3',
  modalityWorklistFind: '1.2.840.10008.5.1.4.31',
} as const;

export type QueryRetrieveSopClassKey = keyof typeof QUERY_RETRIEVE_SOP_CLASSES;

export interface QueryRetrieveInformationModel {
  readonly uid: string;
  readonly key: QueryRetrieveSopClassKey;
  readonly operation: 'FIND' | 'MOVE' | 'GET';
  readonly retired: boolean;
}

const QR_BY_UID: ReadonlyMap<string, QueryRetrieveInformationModel> = new Map(
  (Object.entries(QUERY_RETRIEVE_SOP_CLASSES) as Array<[QueryRetrieveSopClassKey, string]>).map(([key, uid]) => [
    uid,
    {
      uid,
      key,
      operation: key.endsWith('Find') ? 'FIND' : key.endsWith('Move') ? 'MOVE' : 'GET',
      retired: key.startsWith('patientStudyOnly'),
    },
  ]),
);

export function getQueryRetrieveInformationModel(uid: string): QueryRetrieveInformationModel | undefined {
  return QR_BY_UID.get(uid);
}
