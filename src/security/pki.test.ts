import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createNetworkCa, issueCertificate } from './pki.ts';

test('the network CA signs server and client certificates that Node verifies', async () => {
  const ca = await createNetworkCa('Test Network CA');
  const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  const client = await issueCertificate(ca, { commonName: 'site-a', usage: 'client' });
  const caCert = new X509Certificate(ca.certPem);
  const serverCert = new X509Certificate(server.certPem);
  assert.ok(caCert.ca);
  assert.ok(serverCert.verify(caCert.publicKey));
  assert.ok(new X509Certificate(client.certPem).verify(caCert.publicKey));
  assert.equal(serverCert.checkHost('localhost'), 'localhost');
  assert.equal(serverCert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.match(server.keyPem, /BEGIN PRIVATE KEY/);
});
