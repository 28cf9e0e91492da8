// Integration: Orthanc as the site PACS. The edge finds a study by Patient ID + Accession Number
// (C-FIND) and pulls it into itself (C-MOVE); with two PACS holding the study it takes the copy with
// more instances. Both through the staff API and the CLI command.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, projectRoot, requireTools } from '../../../test-support/system-tools.ts';
import { getFreePort } from '../../../test-support/dcmtk.ts';
import { startOrthanc, type RunningOrthanc } from '../../../test-support/orthanc.ts';
import { startTestNetwork, type TestNetwork } from '../../../test-support/network.ts';

const skip = requireTools({ commands: ['Orthanc'], shared: true });

const PATIENT_ID = 'IDS-DEPT024-a';
const ACCESSION = 'IDC024-a';
const STUDY_UID = '1.3.6.1.4.1.21367.201599.1.201604020956016';

describe('pull from the site PACS (Orthanc) into the edge (integration)', { skip }, () => {
  let full: RunningOrthanc;
  let partial: RunningOrthanc;
  let net: TestNetwork;

  before(async () => {
    const edgePort = await getFreePort();
    const modalities = { edge: { aeTitle: 'IMAGESHARE', host: '127.0.0.1', port: edgePort } };
    full = await startOrthanc({ dicomAet: 'PACSFULL', modalities });
    partial = await startOrthanc({ dicomAet: 'PACSPART', modalities });
    const ptFiles = readdirSync(corpusDir).filter((f) => f.startsWith('pt_series_')).sort();
    // The full PACS holds the ten PET slices and the KOS; the other one only three slices.
    for (const f of [...ptFiles, 'kos_manifest_pt_series.dcm']) await full.upload(join(corpusDir, f));
    for (const f of ptFiles.slice(0, 3)) await partial.upload(join(corpusDir, f));
    // Other studies in the full PACS, so the C-FIND must really select by its keys.
    for (const f of ['ct_implicit_le.dcm', 'study_mr_siemens_series3.dcm']) await full.upload(join(corpusDir, f));
    net = await startTestNetwork({
      'dicom.port': edgePort,
      pacs: [
        { aet: 'PACSPART', host: '127.0.0.1', port: partial.dicomPort },
        { aet: 'PACSFULL', host: '127.0.0.1', port: full.dicomPort },
      ],
    });
  });

  after(async () => {
    await net?.stop();
    await full?.stop();
    await partial?.stop();
  });

  test('C-ECHO reaches every configured PACS', async () => {
    const results = await net.network.edge.puller.echoAll();
    assert.deepEqual(results.map((r) => [r.aet, r.ok]), [['PACSPART', true], ['PACSFULL', true]]);
  });

  test('POST /api/edge/retrieve pulls the copy with more instances through C-FIND + C-MOVE', async () => {
    const res = await fetch(`${net.baseUrl}/api/edge/retrieve`, {
      method: 'POST',
      headers: { authorization: net.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: PATIENT_ID, accessionNumber: ACCESSION }),
    });
    const body = (await res.json()) as { studyInstanceUid: string; pacs: { aet: string }; completed: number; failed: number; instancesIndexed: number };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.studyInstanceUid, STUDY_UID);
    assert.equal(body.pacs.aet, 'PACSFULL');
    assert.equal(body.completed, 11);
    assert.equal(body.failed, 0);
    assert.equal(body.instancesIndexed, 11);
    const list = await fetch(`${net.baseUrl}/api/edge/studies?patientId=${PATIENT_ID}`, { headers: { authorization: net.adminAuth } });
    const studies = (await list.json()) as Array<{ studyInstanceUid: string; accessionNumber: string; numberOfInstances: number }>;
    assert.deepEqual(studies.map((s) => [s.studyInstanceUid, s.accessionNumber, s.numberOfInstances]), [[STUDY_UID, ACCESSION, 11]]);
  });

  test('an unknown accession number is answered 404', async () => {
    const res = await fetch(`${net.baseUrl}/api/edge/retrieve`, {
      method: 'POST',
      headers: { authorization: net.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: PATIENT_ID, accessionNumber: 'NO-SUCH-ACC' }),
    });
    assert.equal(res.status, 404);
  });

  test('npx imageshare edge pull prints the study and its counts', async () => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'imageshare.mjs'), 'edge', 'pull', '--patient-id', PATIENT_ID, '--accession', ACCESSION], {
      env: { ...process.env, IMAGESHARE_DATA_DIR: net.dataDir, IMAGESHARE_HTTP_HOST: '127.0.0.1', IMAGESHARE_HTTP_PORT: String(net.network.ports.http) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, err);
    assert.match(out, new RegExp(`Study: ${STUDY_UID.replace(/\./g, '\\.')}`));
    assert.match(out, /PACS: PACSFULL/);
    assert.match(out, /Indexed: 11/);
  });

  test('without credentials the API refuses', async () => {
    const res = await fetch(`${net.baseUrl}/api/edge/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
  });
});
