// Public API of the XDS.b / XDS-I.b library (ebRIM 3.0 metadata, validation, messages).
export * from './vocabulary.ts';
export * from './hl7-datatypes.ts';
export * from './timestamps.ts';
export * from './ebrim.ts';
export * from './metadata.ts';
export * from './registry-response.ts';
export * from './submission-validation.ts';
export * from './iti42-register.ts';
export * from './iti41-provide-and-register.ts';
export * from './iti18-stored-query.ts';
export * from './iti43-retrieve.ts';
export * from './rad69-retrieve-imaging.ts';
export * from './xds-imaging.ts';
