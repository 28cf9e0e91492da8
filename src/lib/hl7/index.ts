// Public API of the HL7 v2 + MLLP library (product-agnostic; npm only: @medplum/core, @medplum/hl7).
export * from './mllp-server.ts';
export * from './adt.ts';
