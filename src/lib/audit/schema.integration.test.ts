// Every message the builders make must validate against the DICOM PS3.15 A.5.1 schema (xmllint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { toDicomXml } from './index.ts';
import { DICOM_AUDIT_SCHEMA_RNG, sampleAuditMessages, validateAgainstSchema } from './testing.ts';

const skip = requireTools({ commands: ['xmllint'] });

test('the RELAX NG schema itself is well-formed and loads', { skip }, async () => {
  assert.ok(readFileSync(DICOM_AUDIT_SCHEMA_RNG, 'utf8').includes('<grammar'));
  const r = await validateAgainstSchema('<AuditMessage/>');
  assert.equal(r.valid, false);
  assert.doesNotMatch(r.errors, /failed to compile|Relax-NG parser error/i);
});

for (const [name, message] of Object.entries(sampleAuditMessages())) {
  test(`builder output validates against DICOM PS3.15 A.5.1: ${name}`, { skip }, async () => {
    const result = await validateAgainstSchema(toDicomXml(message));
    assert.equal(result.valid, true, result.errors);
  });
}

test('the schema rejects what it should', { skip }, async () => {
  const good = toDicomXml(sampleAuditMessages().iti41Repository!);
  const broken = [
    good.replace(/ EventOutcomeIndicator="0"/, ' EventOutcomeIndicator="3"'),
    good.replace(/<ActiveParticipant[\s\S]*?<\/ActiveParticipant>/g, ''),
    good.replace(/ originalText="Import"/, ''),
    good.replace(/<ParticipantObjectName>[^<]*<\/ParticipantObjectName>/, ''),
    good.replace(/EventDateTime="[^"]*"/, 'EventDateTime="May 1st"'),
  ];
  for (const xml of broken) assert.equal((await validateAgainstSchema(xml)).valid, false, xml);
});

test('the RFC 3881-style IHE sample is not DICOM-schema valid (it is a tolerance vector)', { skip: skip || requireTools({ shared: true }) }, async () => {
  const sample = readFileSync(join(samplesDir, 'ipf-atna-dicom-instances-transferred.xml'), 'utf8');
  const result = await validateAgainstSchema(sample);
  assert.equal(result.valid, false);
  assert.match(result.errors, /EventID/);
});
