import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { negotiateStowResponseType, renderStowResponse, stowHttpStatus, stowResponseJson, stowResponseXml, type StowResult } from './stow-response.ts';

const result: StowResult = {
  retrieveUrl: 'https://h/dicomweb/studies/1.2.3',
  stored: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.4.5', retrieveUrl: 'https://h/dicomweb/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5' }],
  failed: [
    { sopClassUid: '1.2.840.10008.3.1.2.3.1', sopInstanceUid: '1.2.3.4.6', failureReason: 290 },
    { sopClassUid: null, sopInstanceUid: null, failureReason: 0xc000 },
  ],
};

describe('STOW-RS response', () => {
  test('statuses: 200 all stored, 202 some failed, 409 none stored', () => {
    assert.equal(stowHttpStatus({ ...result, failed: [] }), 200);
    assert.equal(stowHttpStatus(result), 202);
    assert.equal(stowHttpStatus({ ...result, stored: [] }), 409);
    assert.equal(stowHttpStatus({ retrieveUrl: null, stored: [], failed: [] }), 409);
  });
  test('DICOM JSON: Referenced SOP Sequence with RetrieveURL, Failed SOP Sequence with FailureReason', () => {
    const json = stowResponseJson(result);
    assert.deepEqual(json['00081190'], { vr: 'UR', Value: ['https://h/dicomweb/studies/1.2.3'] });
    const ref = (json['00081199']!.Value as Array<Record<string, { vr: string; Value?: unknown[] }>>)[0]!;
    assert.deepEqual(ref['00081150'], { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] });
    assert.deepEqual(ref['00081155'], { vr: 'UI', Value: ['1.2.3.4.5'] });
    assert.equal(ref['00081190']!.vr, 'UR');
    const failed = json['00081198']!.Value as Array<Record<string, { vr: string; Value?: unknown[] }>>;
    assert.deepEqual(failed[0]!['00081197'], { vr: 'US', Value: [290] });
    assert.deepEqual(failed[1]!['00081155'], { vr: 'UI' });
    assert.equal(JSON.parse(renderStowResponse(result, 'application/dicom+json'))['00081199'].vr, 'SQ');
  });
  test('XML: Native DICOM Model shaped like the IDC sample, well-formed', () => {
    const xml = stowResponseXml(result);
    assert.match(xml, /<DicomAttribute tag="00081198" vr="SQ" keyword="FailedSOPSequence">/);
    assert.match(xml, /<DicomAttribute tag="00081197" vr="US" keyword="FailureReason">\s*<Value number="1">290<\/Value>/);
    assert.match(xml, /<DicomAttribute tag="00081199" vr="SQ" keyword="ReferencedSOPSequence">/);
    assert.match(xml, /<DicomAttribute tag="00081190" vr="UR" keyword="RetrieveURL">\s*<Value number="1">https:\/\/h\/dicomweb\/studies\/1.2.3<\/Value>/);
    const lint = spawnSync('xmllint', ['--noout', '-'], { input: xml });
    if (lint.error === undefined) assert.equal(lint.status, 0, lint.stderr.toString());
  });
  test('Accept negotiation', () => {
    assert.equal(negotiateStowResponseType(undefined), 'application/dicom+json');
    assert.equal(negotiateStowResponseType('*/*'), 'application/dicom+json');
    assert.equal(negotiateStowResponseType('application/dicom+xml'), 'application/dicom+xml');
    assert.equal(negotiateStowResponseType('application/dicom+json;q=0.5, application/dicom+xml'), 'application/dicom+xml');
    assert.equal(negotiateStowResponseType('application/dicom+xml;q=0.2, application/json'), 'application/dicom+json');
    assert.equal(negotiateStowResponseType('text/html'), null);
  });
});
