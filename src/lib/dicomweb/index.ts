// Public API of the product-agnostic DICOMweb library (PS3.18): multipart/related reading, STOW-RS responses.
export * from './multipart-related.ts';
export * from './stow-response.ts';
