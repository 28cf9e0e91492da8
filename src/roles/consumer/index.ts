// Public API of the Document Consumer (ITI-18, ITI-43, RAD-69 against a clearinghouse).
export { DocumentConsumer, ConsumerError, ANY_STORED_TRANSFER_SYNTAX, readManifestFile, type ConsumerOptions, type Exam } from './document-consumer.ts';
export { fileAttachmentSink, type ReceivedFile } from './file-sink.ts';
export { fetchExamsToFolder, type FetchSummary } from './fetch-exams.ts';
