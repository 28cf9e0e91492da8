// Product-agnostic audit library: DICOM PS3.15 A.5 audit messages (build, XML, FHIR AuditEvent,
// parse/validate), syslog transport (RFC 5424/5425/5426) with a durable on-disk sender, and the
// syslog receiver that an Audit Record Repository builds on. Test helpers live in ./testing.ts.
export * from './codes.ts';
export * from './model.ts';
export * from './errors.ts';
export * from './builders.ts';
export { toDicomXml, escapeXmlAttribute, escapeXmlText } from './dicom-xml.ts';
export * from './fhir.ts';
export * from './parse.ts';
export * from './syslog.ts';
export * from './transport.ts';
export * from './durable-sender.ts';
export * from './receiver.ts';
