// XDS.b / XDS-I.b Document Consumer (used by the portal's claim and the site-to-site import): from a
// date of birth and an access code, derive the registry patient ID, find the patient's submission sets
// (ITI-18 FindSubmissionSets, then GetSubmissionSetAndContents), retrieve manifests and reports
// (ITI-43) and the images each manifest lists (RAD-69, in batches), over HTTP(S) with a TLS client
// certificate. Received documents stream into a caller-chosen sink.
import { readFile } from 'node:fs/promises';
import { callSoap, type AttachmentSink, type TlsClientOptions } from '../../lib/soap/index.ts';
import {
  AVAILABILITY_STATUS,
  isImagingManifest,
  QUERY_PARAM,
  readRetrieveDocumentSetResponse,
  readStoredQueryResponse,
  REGISTRY_STORED_QUERY_ACTION,
  RETRIEVE_DOCUMENT_SET_ACTION,
  RETRIEVE_IMAGING_DOCUMENT_SET_ACTION,
  STORED_QUERY_ID,
  writeRetrieveDocumentSetRequest,
  writeRetrieveImagingDocumentSetRequest,
  writeStoredQueryRequest,
  XDSB_DOCUMENT,
  type DocumentEntry,
  type RegistryError,
  type RetrievedDocument,
  type StoredQueryToWrite,
  type SubmissionSet,
  type XdsMetadata,
} from '../../lib/xds/index.ts';
import { readKosManifest, type KosManifest, type KosReference } from '../../lib/dicom/kos.ts';
import { deriveRegistryPatientId } from '../../identifiers/patient-id.ts';
import type { AuditTrail } from '../../server/audit-trail.ts';
import type { ReceivedFile } from './file-sink.ts';

export interface ConsumerOptions {
  /** Clearinghouse base URL (registry at /xds/registry, repository at /xds/repository, imaging source at /xds/imaging). */
  readonly baseUrl: string;
  readonly tls?: TlsClientOptions;
  readonly headers?: Readonly<Record<string, string>>;
  /** Patient ID derivation shared by the network's members. */
  readonly networkKey: Buffer;
  readonly patientIdAuthority: string;
  readonly legacyRsnaPatientIds?: boolean;
  /** Instances per RAD-69 request (default 50). */
  readonly imageBatchSize?: number;
  /** Transfer syntaxes accepted for images, in order of preference; the default lists the common ones so the stored syntax comes back as is. */
  readonly transferSyntaxUids?: readonly string[];
  /** Audit trail of the node acting as consumer (the CLI, a separate process, has none). */
  readonly audit?: AuditTrail;
  readonly timeoutMs?: number;
}

/** One exam (submission set) of the patient, with its documents. */
export interface Exam {
  readonly submissionSet: SubmissionSet;
  readonly manifests: readonly DocumentEntry[];
  readonly reports: readonly DocumentEntry[];
}

export class ConsumerError extends Error {
  constructor(
    readonly code: 'QUERY_FAILED' | 'RETRIEVE_FAILED' | 'NOT_FOUND' | 'BAD_MANIFEST',
    message: string,
    readonly registryErrors: readonly RegistryError[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConsumerError';
  }
}

/** Every transfer syntax a dataset may be stored in: listing them lets the source return the stored bytes unchanged. */
export const ANY_STORED_TRANSFER_SYNTAX: readonly string[] = [
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.203',
  '1.2.840.10008.1.2.5',
];

export class DocumentConsumer {
  constructor(private readonly opts: ConsumerOptions) {}

  private url(path: string): string {
    return this.opts.baseUrl.replace(/\/+$/, '') + path;
  }

  patientIdFor(dateOfBirth: string, accessCode: string): string {
    return deriveRegistryPatientId(dateOfBirth, accessCode, {
      networkKey: this.opts.networkKey,
      authority: this.opts.patientIdAuthority,
      legacyRsna: this.opts.legacyRsnaPatientIds ?? false,
    });
  }

  private async storedQuery(query: StoredQueryToWrite, patientId: string): Promise<XdsMetadata> {
    const endpoint = this.url('/xds/registry');
    const bodyXml = writeStoredQueryRequest(query);
    const emit = (outcome: 'success' | 'serious-failure') =>
      this.opts.audit?.emit(() =>
        this.opts.audit!.events.iti18RegistryStoredQuery({
          role: 'consumer',
          source: this.opts.audit!.node,
          destination: { userId: endpoint, host: new URL(endpoint).hostname },
          queryId: STORED_QUERY_ID[query.name],
          queryRequest: bodyXml,
          patientId,
          outcome,
        }),
      );
    let response;
    try {
      const result = await callSoap({ endpoint, action: REGISTRY_STORED_QUERY_ACTION, bodyXml, ...this.transport() });
      response = readStoredQueryResponse(result.message.envelope.payload);
    } catch (err) {
      emit('serious-failure');
      throw new ConsumerError('QUERY_FAILED', `ITI-18 ${query.name} to ${endpoint} failed: ${(err as Error).message}`, [], { cause: err });
    }
    if (response.status === 'Failure' || response.status === undefined) {
      emit('serious-failure');
      const first = response.errors[0];
      throw new ConsumerError('QUERY_FAILED', `ITI-18 ${query.name} failed${first ? `: ${first.errorCode} ${first.codeContext}` : ''}`, response.errors);
    }
    emit('success');
    return response.metadata;
  }

  private transport(): { tls?: TlsClientOptions; headers?: Readonly<Record<string, string>>; timeoutMs?: number } {
    return {
      ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      ...(this.opts.headers ? { headers: this.opts.headers } : {}),
      ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
    };
  }

  /** The patient's exams, newest submission first. */
  async findExams(registryPatientId: string): Promise<Exam[]> {
    const sets = await this.storedQuery(
      {
        name: 'FindSubmissionSets',
        params: {
          [QUERY_PARAM.submissionSetPatientId]: { kind: 'string', value: registryPatientId },
          [QUERY_PARAM.submissionSetStatus]: { kind: 'strings', values: [AVAILABILITY_STATUS.approved] },
        },
      },
      registryPatientId,
    );
    const exams: Exam[] = [];
    for (const ss of sets.submissionSets) {
      const contents = await this.storedQuery(
        { name: 'GetSubmissionSetAndContents', params: { [QUERY_PARAM.submissionSetEntryUUID]: { kind: 'string', value: ss.entryUUID } } },
        registryPatientId,
      );
      const entries = contents.documentEntries.filter((de) => de.patientId === registryPatientId && de.availabilityStatus !== AVAILABILITY_STATUS.deprecated);
      exams.push({ submissionSet: ss, manifests: entries.filter((de) => isImagingManifest(de)), reports: entries.filter((de) => !isImagingManifest(de)) });
    }
    return exams.sort((a, b) => (b.submissionSet.submissionTime ?? '').localeCompare(a.submissionSet.submissionTime ?? ''));
  }

  /** ITI-43 for manifests and reports. */
  async retrieveDocuments<T>(entries: readonly DocumentEntry[], sink: AttachmentSink<T>, patientId?: string): Promise<RetrievedDocument<T>[]> {
    if (entries.length === 0) return [];
    const endpoint = this.url('/xds/repository');
    const requests = entries.map((de) => {
      if (!de.repositoryUniqueId) throw new ConsumerError('RETRIEVE_FAILED', `document ${de.uniqueId} has no repositoryUniqueId`);
      return { repositoryUniqueId: de.repositoryUniqueId, documentUniqueId: de.uniqueId, ...(de.homeCommunityId ? { homeCommunityId: de.homeCommunityId } : {}) };
    });
    const documents = await this.retrieve(endpoint, RETRIEVE_DOCUMENT_SET_ACTION, writeRetrieveDocumentSetRequest(requests), sink, 'ITI-43');
    this.opts.audit?.emit(() =>
      this.opts.audit!.events.iti43RetrieveDocumentSet({
        role: 'consumer',
        source: { userId: endpoint, host: new URL(endpoint).hostname },
        destination: this.opts.audit!.node,
        documents: requests.map((r) => ({ uniqueId: r.documentUniqueId, repositoryUniqueId: r.repositoryUniqueId })),
        ...(patientId ? { patientId } : {}),
      }),
    );
    return documents;
  }

  /** RAD-69 for every instance a manifest references, `imageBatchSize` instances per request. */
  async retrieveImages<T>(manifest: KosManifest, defaultRepositoryUniqueId: string, sink: AttachmentSink<T>, patientId?: string): Promise<RetrievedDocument<T>[]> {
    const endpoint = this.url('/xds/imaging');
    const batchSize = this.opts.imageBatchSize ?? 50;
    const out: RetrievedDocument<T>[] = [];
    for (let i = 0; i < manifest.references.length; i += batchSize) {
      const batch = manifest.references.slice(i, i + batchSize);
      const bodyXml = writeRetrieveImagingDocumentSetRequest({ studies: groupReferences(batch, defaultRepositoryUniqueId), transferSyntaxUids: this.opts.transferSyntaxUids ?? ANY_STORED_TRANSFER_SYNTAX });
      out.push(...(await this.retrieve(endpoint, RETRIEVE_IMAGING_DOCUMENT_SET_ACTION, bodyXml, sink, 'RAD-69')));
    }
    this.opts.audit?.emit(() =>
      this.opts.audit!.events.rad69RetrieveImagingDocumentSet({
        role: 'consumer',
        source: { userId: endpoint, host: new URL(endpoint).hostname },
        destination: this.opts.audit!.node,
        studies: [...new Set(manifest.references.map((r) => r.studyInstanceUid))].map((uid) => ({ uid })),
        ...(patientId ? { patientId } : {}),
      }),
    );
    return out;
  }

  private async retrieve<T>(endpoint: string, action: string, bodyXml: string, sink: AttachmentSink<T>, transaction: string): Promise<RetrievedDocument<T>[]> {
    let response;
    try {
      const result = await callSoap<T>({ endpoint, action, bodyXml, sink, inlineBinaryElements: [XDSB_DOCUMENT], ...this.transport() });
      response = readRetrieveDocumentSetResponse(result.message);
    } catch (err) {
      throw new ConsumerError('RETRIEVE_FAILED', `${transaction} to ${endpoint} failed: ${(err as Error).message}`, [], { cause: err });
    }
    const errors = response.errors.filter((e) => e.severity !== 'Warning');
    if (response.status === 'Failure' || errors.length > 0) {
      const first = errors[0];
      throw new ConsumerError('RETRIEVE_FAILED', `${transaction} answered ${response.status ?? 'no status'}${first ? `: ${first.errorCode} ${first.codeContext} (${first.location ?? ''})` : ''}`, response.errors);
    }
    return [...response.documents];
  }
}

function groupReferences(refs: readonly KosReference[], defaultRepositoryUniqueId: string) {
  const studies = new Map<string, Map<string, KosReference[]>>();
  for (const r of refs) {
    const series = studies.get(r.studyInstanceUid) ?? new Map<string, KosReference[]>();
    studies.set(r.studyInstanceUid, series);
    series.set(r.seriesInstanceUid, [...(series.get(r.seriesInstanceUid) ?? []), r]);
  }
  return [...studies].map(([studyInstanceUid, series]) => ({
    studyInstanceUid,
    series: [...series].map(([seriesInstanceUid, list]) => ({
      seriesInstanceUid,
      documents: list.map((r) => ({ repositoryUniqueId: r.retrieveLocationUid ?? defaultRepositoryUniqueId, documentUniqueId: r.sopInstanceUid })),
    })),
  }));
}

/** Reads a manifest received into a file. */
export async function readManifestFile(file: ReceivedFile): Promise<KosManifest> {
  try {
    return readKosManifest(await readFile(file.path));
  } catch (err) {
    throw new ConsumerError('BAD_MANIFEST', `the manifest could not be read: ${(err as Error).message}`, [], { cause: err });
  }
}
