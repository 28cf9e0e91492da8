import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DataElementInput, decodeDataSet, encodeDataSet } from './dataset-codec.ts';
import { DataSetCodecError } from './errors.ts';

const studyQuery: DataElementInput[] = [
  { tag: 'PatientID', value: 'PAT-001' },
  { tag: 'QueryRetrieveLevel', value: 'STUDY' },
  { tag: 'StudyInstanceUID' },
  { tag: 'StudyDate', value: '20240101-20241231' },
  { tag: 'PatientName', value: '' },
  { tag: 'ModalitiesInStudy', value: ['CT', 'MR'] },
];

describe('identifier codec', () => {
  it('encodes explicit VR LE in tag order with even-length values', () => {
    const bytes = encodeDataSet([
      { tag: 0x00100020, value: 'ABC' },
      { tag: '0008,0052', value: 'STUDY' },
    ]);
    const expected = Buffer.concat([
      Buffer.from('08005200', 'hex'),
      Buffer.from('CS', 'latin1'),
      Buffer.from('0600', 'hex'),
      Buffer.from('STUDY ', 'latin1'),
      Buffer.from('10002000', 'hex'),
      Buffer.from('LO', 'latin1'),
      Buffer.from('0400', 'hex'),
      Buffer.from('ABC ', 'latin1'),
    ]);
    assert.deepEqual(bytes, expected);
  });

  it('encodes implicit VR LE with 32-bit lengths and NUL-padded UIDs', () => {
    const bytes = encodeDataSet([{ tag: 'StudyInstanceUID', value: '1.2.3' }], { explicitVr: false });
    assert.deepEqual(bytes, Buffer.concat([Buffer.from('20000d0006000000', 'hex'), Buffer.from('1.2.3\0', 'latin1')]));
  });

  for (const explicitVr of [true, false]) {
    it(`round trips a study query (${explicitVr ? 'explicit' : 'implicit'} VR)`, () => {
      const decoded = decodeDataSet(encodeDataSet(studyQuery, { explicitVr }), { explicitVr });
      assert.deepEqual(decoded, {
        QueryRetrieveLevel: 'STUDY',
        StudyDate: '20240101-20241231',
        ModalitiesInStudy: 'CT\\MR',
        PatientName: '',
        PatientID: 'PAT-001',
        StudyInstanceUID: '',
      });
    });

    it(`round trips numbers, binary values and sequences (${explicitVr ? 'explicit' : 'implicit'} VR)`, () => {
      const elements: DataElementInput[] = [
        { tag: 'Rows', value: 512 },
        { tag: 0x00091010, vr: 'SL', value: [-5, 7] },
        { tag: 0x00091011, vr: 'FD', value: 1.5 },
        { tag: 0x00091012, vr: 'OB', value: Buffer.from([1, 2, 3]) },
        { tag: 0x00091013, vr: 'UV', value: 2n ** 40n },
        {
          tag: 'ReferencedSOPSequence',
          value: [
            [
              { tag: 'ReferencedSOPClassUID', value: '1.2.840.10008.5.1.4.1.1.2' },
              { tag: 'ReferencedSOPInstanceUID', value: '1.2.3.4' },
            ],
            [],
          ],
        },
      ];
      const decoded = decodeDataSet(encodeDataSet(elements, { explicitVr }), { explicitVr });
      assert.equal(decoded.Rows, 512);
      assert.equal(decoded.ReferencedSOPSequence instanceof Array, true);
      assert.deepEqual(decoded.ReferencedSOPSequence, [{ ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2', ReferencedSOPInstanceUID: '1.2.3.4' }, {}]);
      if (explicitVr) {
        // Private tags have no dictionary VR: only explicit VR keeps their type.
        assert.deepEqual(decoded['00091010'], [-5, 7]);
        assert.equal(decoded['00091011'], 1.5);
        assert.deepEqual(decoded['00091012'], Buffer.from([1, 2, 3, 0]));
        assert.equal(decoded['00091013'], 2n ** 40n);
      } else {
        assert.ok(Buffer.isBuffer(decoded['00091010']), 'unknown implicit VR decodes as bytes');
      }
    });
  }

  it('decodes undefined-length sequences and items', () => {
    const item = encodeDataSet([{ tag: 'ReferencedSOPInstanceUID', value: '1.2' }]);
    const bytes = Buffer.concat([
      Buffer.from('08009911', 'hex'),
      Buffer.from('SQ', 'latin1'),
      Buffer.from('0000ffffffff', 'hex'),
      Buffer.from('feff00e0ffffffff', 'hex'),
      item,
      Buffer.from('feff0de000000000', 'hex'),
      Buffer.from('feffdde000000000', 'hex'),
      encodeDataSet([{ tag: 'PatientID', value: 'X' }]),
    ]);
    assert.deepEqual(decodeDataSet(bytes), { ReferencedSOPSequence: [{ ReferencedSOPInstanceUID: '1.2' }], PatientID: 'X' });
  });

  it('uses UTF-8 when the character set is ISO_IR 192, Latin-1 otherwise', () => {
    const utf8 = encodeDataSet([
      { tag: 'SpecificCharacterSet', value: 'ISO_IR 192' },
      { tag: 'PatientName', value: 'Wang^XiaoDong=王^小東' },
    ]);
    assert.equal(decodeDataSet(utf8).PatientName, 'Wang^XiaoDong=王^小東');
    const latin1 = encodeDataSet([{ tag: 'PatientName', value: 'Müller^Jürgen' }]);
    assert.equal(latin1.includes(Buffer.from([0xfc])), true, 'ü is one Latin-1 byte');
    assert.equal(decodeDataSet(latin1).PatientName, 'Müller^Jürgen');
  });

  it('reports bad input with typed errors', () => {
    assert.throws(() => encodeDataSet([{ tag: 'NoSuchKeyword', value: 'x' }]), DataSetCodecError);
    assert.throws(() => encodeDataSet([{ tag: 0x00091001, value: 'x' }]), DataSetCodecError, 'private tag without VR');
    assert.throws(() => encodeDataSet([{ tag: 'PatientID', value: 'a' }, { tag: 0x00100020, value: 'b' }]), DataSetCodecError, 'duplicate');
    assert.throws(() => decodeDataSet(Buffer.from('10002000', 'hex')), DataSetCodecError, 'truncated');
    assert.throws(() => decodeDataSet(Buffer.from('10002000ZZ0400', 'hex')), DataSetCodecError);
    const deep: DataElementInput[] = [];
    let current = deep;
    for (let i = 0; i < 20; i++) {
      const inner: DataElementInput[] = [];
      current.push({ tag: 'ReferencedSOPSequence', value: [inner] });
      current = inner;
    }
    assert.throws(() => encodeDataSet(deep), /nested too deeply/);
  });
});
