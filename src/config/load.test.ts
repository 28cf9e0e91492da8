import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './load.ts';

test('defaults match DESIGN.md: ports 8080/8443/11112, AE IMAGESHARE, ./data', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.http.port, 8080);
  assert.equal(c.https.port, 8443);
  assert.equal(c.dicom.port, 11112);
  assert.equal(c.dicom.aet, 'IMAGESHARE');
  assert.match(c.dataDir, /\/data$/);
  assert.equal(c.audit.tlsPort, 6514);
  assert.equal(c.audit.udpPort, 5514);
});

test('environment variables set the configuration, and an empty variable counts as unset', () => {
  const c = loadConfig({
    env: {
      IMAGESHARE_HTTP_PORT: '9090',
      IMAGESHARE_DICOM_AET: 'EDGE1',
      IMAGESHARE_HTTPS_PORT: '',
      IMAGESHARE_PACS: 'PACS1@10.0.0.5:104, PACS2@[::1]:11113',
      IMAGESHARE_DICOM_ALLOWED_CALLING_AETS: 'CT1,MR1',
    },
  });
  assert.equal(c.http.port, 9090);
  assert.equal(c.https.port, 8443);
  assert.equal(c.dicom.aet, 'EDGE1');
  assert.deepEqual(c.pacs, [
    { aet: 'PACS1', host: '10.0.0.5', port: 104 },
    { aet: 'PACS2', host: '::1', port: 11113 },
  ]);
  assert.deepEqual(c.dicom.allowedCallingAets, ['CT1', 'MR1']);
});

test('invalid values are reported with the variable to fix', () => {
  assert.throws(
    () => loadConfig({ env: { IMAGESHARE_HTTP_PORT: 'eighty', IMAGESHARE_DICOM_AET: 'THIS_AE_TITLE_IS_TOO_LONG', IMAGESHARE_ADMIN_PASSWORD: 'short', IMAGESHARE_PACS: 'nonsense' } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.message;
      assert.match(text, /IMAGESHARE_HTTP_PORT="eighty" is not a whole number/);
      assert.match(text, /IMAGESHARE_DICOM_AET \(dicom\.aet\)/);
      assert.match(text, /IMAGESHARE_ADMIN_PASSWORD \(admin\.initialPassword\): the admin password must have at least 12 characters/);
      assert.match(text, /IMAGESHARE_PACS: "nonsense" is not AET@host:port/);
      return true;
    },
  );
});

test('a configuration file is read, and the environment wins over it', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'imageshare.json');
  writeFileSync(file, JSON.stringify({ dicom: { aet: 'FROMFILE', port: 104 }, pacs: [{ aet: 'P', host: 'h', port: 1 }] }));
  const c = loadConfig({ env: { IMAGESHARE_CONFIG: file, IMAGESHARE_DICOM_PORT: '11113' } });
  assert.equal(c.dicom.aet, 'FROMFILE');
  assert.equal(c.dicom.port, 11113);
  assert.equal(c.pacs.length, 1);
  writeFileSync(file, '{not json');
  assert.throws(() => loadConfig({ env: { IMAGESHARE_CONFIG: file } }), /cannot read it as JSON/);
});
