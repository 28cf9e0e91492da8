// Public API of the product-agnostic DICOM data library.
export * from './errors.ts';
export * from './vr.ts';
export * from './tags.ts';
export * from './charset.ts';
export * from './uid.ts';
export * from './transfer-syntax.ts';
export * from './sop-classes.ts';
export * from './element-writer.ts';
export * from './dataset-scanner.ts';
export * from './part10.ts';
export * from './header.ts';
export * from './file.ts';
