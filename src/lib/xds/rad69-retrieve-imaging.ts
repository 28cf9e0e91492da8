// RAD-69 Retrieve Imaging Document Set (XDS-I.b) and the RAD-75 body (ihe-protocols.md §7.3, §8):
// StudyRequest → SeriesRequest → xdsb:DocumentRequest (DocumentUniqueId = SOP Instance UID),
// plus the required TransferSyntaxUIDList. The response is the ITI-43 response (iti43-retrieve.ts)
// with the ITI-43 response action.
import { attribute, childElements, firstChild, ownText, type XmlElement } from '../soap/safe-xml.ts';
import { XmlWriter } from '../soap/xml-writer.ts';
import { readDocumentRequest, writeDocumentRequest, type DocumentRequest, type RetrieveParseResult } from './iti43-retrieve.ts';
import { registryError, type RegistryError } from './registry-response.ts';
import { XDS_ACTIONS, XDSB_NS, XDSI_NS } from './vocabulary.ts';

export const RETRIEVE_IMAGING_DOCUMENT_SET_ACTION = XDS_ACTIONS.retrieveImagingDocumentSet;
export const RETRIEVE_IMAGING_DOCUMENT_SET_RESPONSE_ACTION = XDS_ACTIONS.retrieveImagingDocumentSetResponse;
export const CROSS_GATEWAY_RETRIEVE_IMAGING_ACTION = XDS_ACTIONS.crossGatewayRetrieveImaging;

export interface SeriesRequest {
  readonly seriesInstanceUid: string;
  readonly documents: readonly DocumentRequest[];
}

export interface StudyRequest {
  readonly studyInstanceUid: string;
  readonly series: readonly SeriesRequest[];
}

/** One requested SOP instance with the study and series it was asked under. */
export interface ImagingDocumentRequest extends DocumentRequest {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
}

export interface RetrieveImagingDocumentSetRequest {
  readonly studies: readonly StudyRequest[];
  /** In order of preference. */
  readonly transferSyntaxUids: readonly string[];
}

/** Every requested instance, flattened (study/series context kept for the "not in this series" check). */
export function imagingDocumentRequests(request: RetrieveImagingDocumentSetRequest): ImagingDocumentRequest[] {
  return request.studies.flatMap((study) =>
    study.series.flatMap((series) =>
      series.documents.map((d) => ({ ...d, studyInstanceUid: study.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid })),
    ),
  );
}

/**
 * Reads an xdsiB:RetrieveImagingDocumentSetRequest payload. A-IDS-06: empty study or series UID,
 * or a missing/empty TransferSyntaxUIDList, fail the request (Gazelle rad69.uml, NIST ids_2018-4811).
 */
export function readRetrieveImagingDocumentSetRequest(payload: XmlElement | undefined): RetrieveParseResult<RetrieveImagingDocumentSetRequest> {
  if (!payload || payload.ns !== XDSI_NS || payload.local !== 'RetrieveImagingDocumentSetRequest') {
    return {
      ok: false,
      errors: [registryError('XDSRepositoryError', `expected xdsiB:RetrieveImagingDocumentSetRequest, got ${payload ? `{${payload.ns}}${payload.local}` : 'an empty Body'}`)],
    };
  }
  const errors: RegistryError[] = [];
  const studyElements = childElements(payload, XDSI_NS, 'StudyRequest');
  if (studyElements.length === 0) errors.push(registryError('XDSRepositoryError', 'RetrieveImagingDocumentSetRequest without StudyRequest'));
  const studies: StudyRequest[] = studyElements.map((s) => {
    const studyInstanceUid = (attribute(s, 'studyInstanceUID') ?? '').trim();
    if (studyInstanceUid === '') errors.push(registryError('XDSRepositoryError', 'StudyRequest with an empty studyInstanceUID'));
    const seriesElements = childElements(s, XDSI_NS, 'SeriesRequest');
    if (seriesElements.length === 0) errors.push(registryError('XDSRepositoryError', `StudyRequest ${studyInstanceUid} without SeriesRequest`, studyInstanceUid));
    return {
      studyInstanceUid,
      series: seriesElements.map((se) => {
        const seriesInstanceUid = (attribute(se, 'seriesInstanceUID') ?? '').trim();
        if (seriesInstanceUid === '') errors.push(registryError('XDSRepositoryError', 'SeriesRequest with an empty seriesInstanceUID', studyInstanceUid));
        const docs = childElements(se, XDSB_NS, 'DocumentRequest');
        if (docs.length === 0) errors.push(registryError('XDSRepositoryError', `SeriesRequest ${seriesInstanceUid} without DocumentRequest`, seriesInstanceUid));
        return {
          seriesInstanceUid,
          documents: docs.map((d) => readDocumentRequest(d, errors)).filter((d): d is DocumentRequest => d !== undefined),
        };
      }),
    };
  });
  const tsList = firstChild(payload, XDSI_NS, 'TransferSyntaxUIDList');
  const transferSyntaxUids = tsList ? childElements(tsList, XDSI_NS, 'TransferSyntaxUID').map((t) => ownText(t).trim()) : [];
  if (!tsList) errors.push(registryError('XDSRepositoryError', 'TransferSyntaxUIDList is missing'));
  else if (transferSyntaxUids.length === 0 || transferSyntaxUids.some((t) => t === '')) {
    errors.push(registryError('XDSRepositoryError', 'TransferSyntaxUIDList is empty or holds an empty TransferSyntaxUID'));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, request: { studies, transferSyntaxUids } };
}

/** xdsiB:RetrieveImagingDocumentSetRequest XML (imaging document consumer side). */
export function writeRetrieveImagingDocumentSetRequest(request: RetrieveImagingDocumentSetRequest): string {
  const w = new XmlWriter();
  w.start('xdsiB:RetrieveImagingDocumentSetRequest', { 'xmlns:xdsiB': XDSI_NS, 'xmlns:xdsb': XDSB_NS });
  for (const study of request.studies) {
    w.start('xdsiB:StudyRequest', { studyInstanceUID: study.studyInstanceUid });
    for (const series of study.series) {
      w.start('xdsiB:SeriesRequest', { seriesInstanceUID: series.seriesInstanceUid });
      for (const d of series.documents) writeDocumentRequest(w, d);
      w.end();
    }
    w.end();
  }
  w.start('xdsiB:TransferSyntaxUIDList');
  for (const ts of request.transferSyntaxUids) w.leaf('xdsiB:TransferSyntaxUID', undefined, ts);
  w.end();
  w.end();
  return w.toString();
}
