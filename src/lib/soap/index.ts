// Public API of the SOAP 1.2 / WS-Addressing / MTOM-XOP library (product-agnostic).
export * from './namespaces.ts';
export * from './errors.ts';
export * from './safe-xml.ts';
export * from './xml-writer.ts';
export * from './content-type.ts';
export * from './envelope.ts';
export * from './mtom.ts';
export * from './soap-client.ts';
export { MultipartLineEndingNormalizer } from './multipart-line-endings.ts';
