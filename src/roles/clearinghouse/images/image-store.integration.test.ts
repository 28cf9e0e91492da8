// Integration: the clearinghouse image store in the running network. STOW-RS of every corpus file in one
// request (each stored dataset equals the file's dataset bytes; the file without Study/Series UIDs is
// listed as failed), refused and malformed requests (nothing indexed), node-to-node HTTPS with a client
// certificate, WADO-URI in the stored and in a converted syntax (checked with dcmdump), and the
// ImagingInstanceSource with the KOS manifest's PET series.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { corpusDir, requireTools } from '../../../../test-support/system-tools.ts';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { detectFileLayout } from '../../../lib/dicom/part10.ts';
import { extractIndexAttributes } from '../../../lib/dicom/header.ts';
import { IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN } from '../../../lib/dicom/transfer-syntax.ts';

const skip = requireTools({ shared: true, commands: ['dcmdump'] });

interface CorpusFile {
  name: string;
  bytes: Buffer;
  dataset: Buffer;
  transferSyntaxUid: string;
  sopInstanceUid: string | null;
  sopClassUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
}

function loadCorpus(): CorpusFile[] {
  return readdirSync(corpusDir)
    .filter((f) => f.endsWith('.dcm'))
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(corpusDir, name));
      const layout = detectFileLayout(bytes.subarray(0, 1024 * 1024));
      const dataset = bytes.subarray(layout.datasetOffset);
      const header = extractIndexAttributes(dataset, layout.transferSyntaxUid, { wholeDataset: true });
      assert.ok(header.complete);
      const a = header.attributes;
      return {
        name,
        bytes,
        dataset,
        transferSyntaxUid: layout.transferSyntaxUid,
        sopInstanceUid: a.instance.sopInstanceUid,
        sopClassUid: a.instance.sopClassUid,
        studyInstanceUid: a.study.instanceUid,
        seriesInstanceUid: a.series.instanceUid,
      };
    });
}

const BOUNDARY = 'imageshare-test-boundary-7d1f';

function multipartBody(parts: readonly Buffer[], opts: { partType?: string } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Type: ${opts.partType ?? 'application/dicom'}\r\n\r\n`), part, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

const STOW_TYPE = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

function sequenceItems(body: DicomJson, tag: string): DicomJson[] {
  return (body[tag]?.Value ?? []) as DicomJson[];
}
function firstValue(item: DicomJson, tag: string): unknown {
  return item[tag]?.Value?.[0];
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('clearinghouse image store', { skip }, () => {
  let net: TestNetwork;
  let corpus: CorpusFile[];
  const stow = (body: Buffer, headers: Record<string, string> = {}, path = '/dicomweb/studies') =>
    fetch(`${net.baseUrl}${path}`, { method: 'POST', headers: { authorization: net.adminAuth, 'content-type': STOW_TYPE, ...headers }, body });
  const countRows = async () => Number((await net.network.db.db.selectFrom('clearinghouse_instance').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  before(async () => {
    corpus = loadCorpus();
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.stop();
  });

  test('anonymous STOW over plain HTTP is refused with 401', async () => {
    const res = await fetch(`${net.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': STOW_TYPE }, body: multipartBody([corpus[0]!.bytes]) });
    assert.equal(res.status, 401);
    assert.equal(await countRows(), 0);
  });

  test('a truncated body is refused with 400 and nothing is indexed', async () => {
    const whole = multipartBody(corpus.slice(0, 5).map((f) => f.bytes));
    const res = await stow(whole.subarray(0, whole.length - 3000));
    assert.equal(res.status, 400);
    assert.equal(await countRows(), 0);
  });

  test('a body that is not multipart, or a wrong media type, is refused', async () => {
    assert.equal((await stow(Buffer.from('just some bytes'))).status, 400);
    assert.equal((await stow(corpus[0]!.bytes, { 'content-type': 'application/dicom' })).status, 415);
    assert.equal((await stow(multipartBody([corpus[0]!.bytes]), { 'content-type': `multipart/related; type="application/dicom+xml"; boundary=${BOUNDARY}` })).status, 415);
    assert.equal((await stow(multipartBody([corpus[0]!.bytes]), { 'content-type': 'multipart/related; type="application/dicom"' })).status, 400);
    assert.equal(await countRows(), 0);
  });

  test('an instance of another study in /studies/{uid} is listed as failed (409 when none is stored)', async () => {
    const file = corpus.find((f) => f.name === 'ct_implicit_le.dcm')!;
    const res = await stow(multipartBody([file.bytes]), {}, '/dicomweb/studies/1.2.3.4.5');
    assert.equal(res.status, 409);
    const body = (await res.json()) as DicomJson;
    const failed = sequenceItems(body, '00081198');
    assert.equal(failed.length, 1);
    assert.equal(firstValue(failed[0]!, '00081155'), file.sopInstanceUid);
    assert.equal(firstValue(failed[0]!, '00081197'), 0xa900);
    assert.equal(await countRows(), 0);
  });

  test('STOW of every corpus file in one request: datasets stored exactly, the one without UIDs failed (202)', async () => {
    const res = await stow(multipartBody(corpus.map((f) => f.bytes)));
    assert.equal(res.status, 202);
    assert.match(res.headers.get('content-type') ?? '', /application\/dicom\+json/);
    const body = (await res.json()) as DicomJson;
    const referenced = sequenceItems(body, '00081199');
    const failed = sequenceItems(body, '00081198');
    const complete = corpus.filter((f) => f.sopInstanceUid && f.studyInstanceUid && f.seriesInstanceUid);
    const incomplete = corpus.filter((f) => !complete.includes(f));
    assert.deepEqual(incomplete.map((f) => f.name), ['sc_htj2k_lossless_rgb.dcm']);
    assert.equal(failed.length, 1);
    assert.equal(firstValue(failed[0]!, '00081197'), 0xc000);
    assert.equal(referenced.length, complete.length);
    const listed = new Set(referenced.map((r) => firstValue(r, '00081155')));
    for (const f of complete) {
      assert.ok(listed.has(f.sopInstanceUid), `${f.name} listed`);
      const item = referenced.find((r) => firstValue(r, '00081155') === f.sopInstanceUid)!;
      assert.equal(firstValue(item, '00081150'), f.sopClassUid);
      assert.equal(firstValue(item, '00081190'), `${net.baseUrl}/dicomweb/studies/${f.studyInstanceUid}/series/${f.seriesInstanceUid}/instances/${f.sopInstanceUid}`);
      const row = await net.network.clearinghouse.images.index.findInstance(f.sopInstanceUid!);
      assert.ok(row, `${f.name} indexed`);
      assert.equal(row.transfer_syntax_uid, f.transferSyntaxUid, `${f.name} transfer syntax`);
      assert.equal(row.study_uid, f.studyInstanceUid);
      assert.equal(row.stored_by, 'staff:admin');
      const stored = await readAll(net.network.blobs.openRead(row.blob_key));
      assert.ok(stored.equals(f.dataset), `${f.name}: stored dataset equals the file's dataset bytes`);
    }
    assert.equal(body['00081190'], undefined, 'several studies: no study RetrieveURL');
    assert.equal(await countRows(), complete.length);
  });

  test('the same instances again are a success and the first copy is kept; XML on request', async () => {
    const pt = corpus.filter((f) => f.name.startsWith('pt_series_'));
    const before = await net.network.clearinghouse.images.index.findInstance(pt[0]!.sopInstanceUid!);
    const res = await stow(multipartBody(pt.map((f) => f.bytes)), { accept: 'application/dicom+xml' }, `/dicomweb/studies/${pt[0]!.studyInstanceUid}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/dicom\+xml/);
    const xml = await res.text();
    assert.match(xml, /<NativeDicomModel xmlns="http:\/\/dicom.nema.org\/PS3.19\/models\/NativeDICOM">/);
    assert.equal(xml.match(/<Item number=/g)?.length, pt.length);
    assert.ok(xml.includes(`${net.baseUrl}/dicomweb/studies/${pt[0]!.studyInstanceUid}</Value>`));
    const afterRow = await net.network.clearinghouse.images.index.findInstance(pt[0]!.sopInstanceUid!);
    assert.deepEqual(afterRow, before);
  });

  test('node to node: HTTPS with a network client certificate may STOW; without one it may not', async () => {
    const file = corpus.find((f) => f.name === 'pt_series_inst01.dcm')!;
    const { tls } = net.network.identity;
    const post = (withCert: boolean) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(`${net.httpsUrl!}/dicomweb/studies`);
        const req = https.request(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', ca: tls.clientCaPem, ...(withCert ? { cert: tls.certPem, key: tls.keyPem } : {}), headers: { 'content-type': STOW_TYPE }, servername: 'localhost' },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(multipartBody([file.bytes]));
      });
    assert.equal((await post(false)).status, 401);
    const ok = await post(true);
    assert.equal(ok.status, 200, ok.body);
  });

  test('WADO-URI returns the stored dataset as is, and converted to another uncompressed syntax', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wado-test-'));
    try {
      const wado = (f: CorpusFile, extra = '') =>
        fetch(`${net.baseUrl}/wado?requestType=WADO&studyUID=${f.studyInstanceUid}&seriesUID=${f.seriesInstanceUid}&objectUID=${f.sopInstanceUid}&contentType=application/dicom${extra}`, { headers: { authorization: net.adminAuth } });
      for (const f of corpus.filter((c) => c.sopInstanceUid && c.studyInstanceUid && c.seriesInstanceUid)) {
        const res = await wado(f, `&transferSyntax=${f.transferSyntaxUid}`);
        assert.equal(res.status, 200, f.name);
        const file = Buffer.from(await res.arrayBuffer());
        const layout = detectFileLayout(file);
        assert.equal(layout.kind, 'part10');
        assert.equal(layout.meta?.transferSyntaxUid, f.transferSyntaxUid);
        assert.equal(layout.meta?.mediaStorageSopInstanceUid, f.sopInstanceUid);
        assert.ok(file.subarray(layout.datasetOffset).equals(f.dataset), `${f.name}: dataset byte-identical`);
      }
      const dump = (path: string) => {
        const r = spawnSync('dcmdump', ['-q', '+L', path], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
        assert.equal(r.status, 0, r.stderr);
        // The File Meta group differs (transfer syntax); the dataset must not.
        return r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#') && !l.includes('(0002,'));
      };
      // Explicit VR Little Endian → Big Endian: VRs are kept, so every line must match.
      const explicit = corpus.find((f) => f.name === 'pt_series_inst02.dcm')!;
      for (const [target, name] of [[EXPLICIT_VR_BIG_ENDIAN, 'be'], [EXPLICIT_VR_LITTLE_ENDIAN, 'le']] as const) {
        const res = await wado(explicit, `&transferSyntax=${target}`);
        assert.equal(res.status, 200);
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.equal(detectFileLayout(bytes).meta?.transferSyntaxUid, target);
        writeFileSync(join(dir, `${name}.dcm`), bytes);
      }
      writeFileSync(join(dir, 'orig.dcm'), explicit.bytes);
      const normalise = (lines: string[]) => lines.map((l) => l.replace(/(Sequence|Item) with (explicit|undefined) length.*$/, '$1'));
      assert.deepEqual(normalise(dump(join(dir, 'be.dcm'))), normalise(dump(join(dir, 'orig.dcm'))));
      // Implicit VR Little Endian stored → Explicit VR Little Endian (no default: the requested one).
      const implicit = corpus.find((f) => f.name === 'ct_implicit_le.dcm')!;
      assert.equal(implicit.transferSyntaxUid, IMPLICIT_VR_LITTLE_ENDIAN);
      const res = await wado(implicit);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /transfer-syntax=1\.2\.840\.10008\.1\.2\.1/);
      writeFileSync(join(dir, 'ct-explicit.dcm'), Buffer.from(await res.arrayBuffer()));
      writeFileSync(join(dir, 'ct-implicit.dcm'), implicit.bytes);
      // Implicit data gets dictionary VRs; private elements become UN: compare the standard elements.
      const publicOnly = (lines: string[]) => lines.filter((l) => !/^\s*\([0-9a-f]{3}[13579bdf],/.test(l) && !l.includes('(7fe0,0010)'));
      assert.deepEqual(publicOnly(dump(join(dir, 'ct-explicit.dcm'))), publicOnly(dump(join(dir, 'ct-implicit.dcm'))));
      // Compressed: decoded to Explicit VR Little Endian when a codec exists (HTJ2K here, which DCMTK
      // cannot even send); without one (JPEG Extended) and no transferSyntax asked, the stored syntax.
      const htj2k = corpus.find((f) => f.name === 'mr_htj2k_lossless_rpcl.dcm')!;
      const decoded = await wado(htj2k, `&transferSyntax=${EXPLICIT_VR_LITTLE_ENDIAN}`);
      assert.equal(decoded.status, 200);
      const decodedBytes = Buffer.from(await decoded.arrayBuffer());
      assert.equal(detectFileLayout(decodedBytes).meta?.transferSyntaxUid, EXPLICIT_VR_LITTLE_ENDIAN);
      writeFileSync(join(dir, 'decoded.dcm'), decodedBytes);
      assert.match(dump(join(dir, 'decoded.dcm')).join('\n'), /\(7fe0,0010\) OW [0-9a-f]/);
      const jpeg12 = corpus.find((f) => f.name === 'nm_jpeg_extended_12bit.dcm')!;
      const asStored = await wado(jpeg12);
      assert.equal(asStored.status, 200);
      assert.match(asStored.headers.get('content-type') ?? '', /transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.51/);
      assert.equal((await wado(jpeg12, `&transferSyntax=${EXPLICIT_VR_LITTLE_ENDIAN}`)).status, 406);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('WADO-URI: 400 for missing or invalid parameters, 404 for an unknown object, 406 for JPEG, 401 anonymous', async () => {
    const f = corpus.find((c) => c.name === 'pt_series_inst01.dcm')!;
    const get = (query: string, auth = true) => fetch(`${net.baseUrl}/wado?${query}`, { headers: auth ? { authorization: net.adminAuth } : {} });
    const ok = `requestType=WADO&studyUID=${f.studyInstanceUid}&seriesUID=${f.seriesInstanceUid}&objectUID=${f.sopInstanceUid}`;
    assert.equal((await get(`${ok}&contentType=application/dicom`, false)).status, 401);
    assert.equal((await get(`studyUID=${f.studyInstanceUid}&seriesUID=${f.seriesInstanceUid}&objectUID=${f.sopInstanceUid}&contentType=application/dicom`)).status, 400);
    assert.equal((await get(`requestType=WADO&studyUID=${f.studyInstanceUid}&objectUID=${f.sopInstanceUid}&contentType=application/dicom`)).status, 400);
    assert.equal((await get(`requestType=WADO&studyUID=not-a-uid&seriesUID=${f.seriesInstanceUid}&objectUID=${f.sopInstanceUid}&contentType=application/dicom`)).status, 400);
    assert.equal((await get(`requestType=WADO&studyUID=${f.studyInstanceUid}&seriesUID=${f.seriesInstanceUid}&objectUID=1.2.3.999&contentType=application/dicom`)).status, 404);
    assert.equal((await get(`requestType=WADO&studyUID=1.2.3&seriesUID=${f.seriesInstanceUid}&objectUID=${f.sopInstanceUid}&contentType=application/dicom`)).status, 404);
    assert.equal((await get(`${ok}&contentType=image/jpeg`)).status, 406);
    assert.equal((await get(`${ok}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.4.50`)).status, 406);
  });

  test('ImagingInstanceSource: the KOS manifest and its PET series', async () => {
    const source = net.network.clearinghouse.images.source;
    const kos = corpus.find((f) => f.name === 'kos_manifest_pt_series.dcm')!;
    const pt = corpus.filter((f) => f.name.startsWith('pt_series_'));
    assert.equal(pt.length, 10);
    const kosLookup = await source.findInstance({ studyInstanceUid: kos.studyInstanceUid!, sopInstanceUid: kos.sopInstanceUid! }, []);
    assert.equal(kosLookup.kind, 'found');
    for (const f of pt) {
      const found = await source.findInstance({ studyInstanceUid: f.studyInstanceUid!, seriesInstanceUid: f.seriesInstanceUid!, sopInstanceUid: f.sopInstanceUid! }, [f.transferSyntaxUid]);
      assert.equal(found.kind, 'found');
      if (found.kind !== 'found') continue;
      const bytes = await readAll(found.instance.open());
      assert.equal(bytes.length, found.instance.sizeBytes);
      const layout = detectFileLayout(bytes);
      assert.equal(layout.meta?.implementationClassUid !== null, true);
      assert.ok(bytes.subarray(layout.datasetOffset).equals(f.dataset));
    }
    const f = pt[0]!;
    assert.equal((await source.findInstance({ studyInstanceUid: f.studyInstanceUid!, seriesInstanceUid: '1.2.3', sopInstanceUid: f.sopInstanceUid! }, [])).kind, 'not-found');
    assert.equal((await source.findInstance({ studyInstanceUid: '1.2.3', sopInstanceUid: f.sopInstanceUid! }, [])).kind, 'not-found');
    assert.equal((await source.findInstance({ sopInstanceUid: '1.2.3.4' }, [])).kind, 'not-found');
    // Not accepted as stored: the first accepted syntax that can be made is used.
    const converted = await source.findInstance({ sopInstanceUid: f.sopInstanceUid! }, ['1.2.840.10008.1.2.4.50', IMPLICIT_VR_LITTLE_ENDIAN]);
    assert.equal(converted.kind, 'found');
    if (converted.kind === 'found') {
      assert.equal(converted.instance.transferSyntaxUid, IMPLICIT_VR_LITTLE_ENDIAN);
      const layout = detectFileLayout(await readAll(converted.instance.open()));
      assert.equal(layout.meta?.transferSyntaxUid, IMPLICIT_VR_LITTLE_ENDIAN);
    }
    const unavailable = await source.findInstance({ sopInstanceUid: f.sopInstanceUid! }, ['1.2.840.10008.1.2.4.50']);
    assert.deepEqual(unavailable, { kind: 'transfer-syntax-unavailable', storedTransferSyntaxUid: f.transferSyntaxUid });
  });

  test('STOW and WADO-URI are audited (RAD-108 per study, RAD-55 per retrieve)', async () => {
    assert.ok(await net.network.audit.flush(5000));
    const deadline = Date.now() + 5000;
    let types: string[] = [];
    while (Date.now() < deadline) {
      const rows = await net.network.db.db.selectFrom('audit_record').select('event_types').execute();
      types = rows.map((r) => r.event_types);
      if (types.some((t) => t.includes('RAD-108')) && types.some((t) => t.includes('RAD-55'))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(types.some((t) => t.includes('RAD-108')), 'RAD-108 recorded');
    assert.ok(types.some((t) => t.includes('RAD-55')), 'RAD-55 recorded');
  });
});
