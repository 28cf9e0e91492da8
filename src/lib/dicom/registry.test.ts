import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  getQueryRetrieveInformationModel,
  getStorageSopClass,
  isStorageSopClass,
  QUERY_RETRIEVE_SOP_CLASSES,
  STORAGE_SOP_CLASSES,
  VERIFICATION_SOP_CLASS,
} from './sop-classes.ts';
import { datasetEncodingOf, getTransferSyntax, TRANSFER_SYNTAXES } from './transfer-syntax.ts';
import { isValidUid } from './uid.ts';

describe('transfer syntaxes', () => {
  test('every UID is valid and listed once', () => {
    const uids = TRANSFER_SYNTAXES.map((t) => t.uid);
    assert.equal(new Set(uids).size, uids.length);
    for (const uid of uids) assert.ok(isValidUid(uid), uid);
  });

  test('flags of the families the archive meets', () => {
    const implicit = getTransferSyntax('1.2.840.10008.1.2')!;
    assert.equal(implicit.explicitVr, false);
    assert.equal(implicit.encapsulated, false);
    const big = getTransferSyntax('1.2.840.10008.1.2.2')!;
    assert.deepEqual([big.byteOrder, big.retired], ['big', true]);
    assert.equal(getTransferSyntax('1.2.840.10008.1.2.1.99')!.deflated, true);
    for (const [uid, lossy] of [
      ['1.2.840.10008.1.2.4.50', true], ['1.2.840.10008.1.2.4.51', true], ['1.2.840.10008.1.2.4.57', false], ['1.2.840.10008.1.2.4.70', false],
      ['1.2.840.10008.1.2.4.80', false], ['1.2.840.10008.1.2.4.81', true], ['1.2.840.10008.1.2.4.90', false], ['1.2.840.10008.1.2.4.91', true],
      ['1.2.840.10008.1.2.4.201', false], ['1.2.840.10008.1.2.4.202', false], ['1.2.840.10008.1.2.4.203', true], ['1.2.840.10008.1.2.5', false],
      ['1.2.840.10008.1.2.4.102', true], ['1.2.840.10008.1.2.4.107', true], ['1.2.840.10008.1.2.4.108', true],
    ] as const) {
      const t = getTransferSyntax(uid);
      assert.ok(t, uid);
      assert.equal(t.encapsulated, true, `${uid} encapsulated`);
      assert.equal(t.lossy, lossy, `${uid} lossy`);
      assert.equal(t.explicitVr, true);
    }
    assert.equal(getTransferSyntax('1.2.840.10008.1.2.4.94')!.pixelDataReferenced, true);
    assert.equal(getTransferSyntax('1.2.840.10008.1.2.4.95')!.deflated, true);
    assert.equal(getTransferSyntax('1.2.840.10008.1.2.4.52')!.retired, true);
  });

  test('dataset encoding: unknown UIDs are read as Explicit VR Little Endian', () => {
    assert.deepEqual(datasetEncodingOf('1.2.840.10008.1.2'), { explicitVr: false, littleEndian: true, deflated: false, known: true });
    assert.deepEqual(datasetEncodingOf('1.2.3.4.5'), { explicitVr: true, littleEndian: true, deflated: false, known: false });
  });
});

describe('SOP classes', () => {
  test('every UID is valid and listed once', () => {
    const uids = STORAGE_SOP_CLASSES.map((c) => c.uid);
    assert.equal(new Set(uids).size, uids.length);
    for (const uid of uids) assert.ok(isValidUid(uid), uid);
    assert.ok(STORAGE_SOP_CLASSES.length > 180);
  });

  test('current and retired storage classes', () => {
    const expectations: Array<[string, boolean]> = [
      ['1.2.840.10008.5.1.4.1.1.2', false], // CT
      ['1.2.840.10008.5.1.4.1.1.2.1', false], // Enhanced CT
      ['1.2.840.10008.5.1.4.1.1.6', true], // US (retired)
      ['1.2.840.10008.5.1.4.1.1.6.1', false],
      ['1.2.840.10008.5.1.4.1.1.3', true], // US multi-frame (retired)
      ['1.2.840.10008.5.1.4.1.1.3.1', false],
      ['1.2.840.10008.5.1.4.1.1.5', true], // NM (retired)
      ['1.2.840.10008.5.1.4.1.1.20', false],
      ['1.2.840.10008.5.1.4.1.1.12.3', true], // XA bi-plane
      ['1.2.840.10008.5.1.4.1.1.8', true], // stand-alone overlay
      ['1.2.840.10008.5.1.4.1.1.129', true], // stand-alone PET curve
      ['1.2.840.10008.5.1.1.29', true], // hardcopy grayscale
      ['1.2.840.10008.5.1.4.1.1.88.59', false], // KOS
      ['1.2.840.10008.5.1.4.1.1.104.1', false], // encapsulated PDF
      ['1.2.840.10008.5.1.4.1.1.77.1.6', false], // whole slide
      ['1.2.840.10008.5.1.4.1.1.13.1.3', false], // breast tomosynthesis
      ['1.2.840.10008.5.1.4.1.1.66.4', false], // segmentation
      ['1.2.840.10008.5.1.4.1.1.66.6', false], // tractography
      ['1.2.840.10008.5.1.4.1.1.481.5', false], // RT plan
    ];
    for (const [uid, retired] of expectations) {
      assert.ok(isStorageSopClass(uid), uid);
      assert.equal(getStorageSopClass(uid)!.retired, retired, uid);
    }
    assert.equal(getStorageSopClass('1.2.840.10008.5.1.4.1.1.88.59')!.kind, 'structured-report');
    assert.equal(getStorageSopClass('1.2.840.10008.5.1.4.1.1.104.1')!.kind, 'encapsulated-document');
  });

  test('non-storage and private UIDs are not storage classes', () => {
    assert.equal(isStorageSopClass(VERIFICATION_SOP_CLASS), false);
    assert.equal(isStorageSopClass(QUERY_RETRIEVE_SOP_CLASSES.studyRootFind), false);
    assert.equal(isStorageSopClass('1.2.840.113619.4.30'), false); // a private GE class
    assert.equal(isStorageSopClass('1.2.840.10008.1.3.10'), false); // DICOMDIR is media-only
  });

  test('query/retrieve information models', () => {
    assert.deepEqual(getQueryRetrieveInformationModel('1.2.840.10008.5.1.4.1.2.2.2'), {
      uid: '1.2.840.10008.5.1.4.1.2.2.2',
      key: 'studyRootMove',
      operation: 'MOVE',
      retired: false,
    });
    assert.equal(getQueryRetrieveInformationModel('1.2.840.10008.5.1.4.1.2.1.3')!.operation, 'GET');
    assert.equal(getQueryRetrieveInformationModel('1.2.840.10008.5.1.4.1.2.3.1')!.retired, true);
    assert.equal(getQueryRetrieveInformationModel('1.2.840.10008.5.1.4.31')!.operation, 'FIND');
  });
});
