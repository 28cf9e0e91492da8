// The STOW-RS Store Instances Response (PS3.18 10.5.3): which instances were stored (Referenced SOP
// Sequence, with their RetrieveURL), which failed and why (Failed SOP Sequence, Failure Reason), the
// study's RetrieveURL, and the HTTP status that goes with them. DICOM JSON (PS3.18 F.2) by default,
// the Native DICOM Model XML (PS3.19 A.1) on request.

/** Failure Reason (0008,1197) values (PS3.18 10.5.3, from the C-STORE statuses of PS3.4 B.2.3). */
export const StowFailureReason = {
  ProcessingFailure: 0x0110,
  SopClassNotSupported: 0x0122,
  OutOfResources: 0xa700,
  /** Also used for an instance whose Study Instance UID differs from the one in the request URL. */
  DataSetDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
  TransferSyntaxNotSupported: 0xc122,
} as const;

/** Warning Reason (0008,1196) values. */
export const StowWarningReason = {
  CoercionOfDataElements: 0xb000,
  DataSetDoesNotMatchSopClass: 0xb007,
  ElementsDiscarded: 0xb006,
} as const;

export interface StowStoredInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  /** WADO-RS URL of the instance. */
  retrieveUrl: string | null;
  warningReason?: number;
}

export interface StowFailedInstance {
  /** Null when the part could not be read far enough to know it. */
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  failureReason: number;
}

export interface StowResult {
  /** WADO-RS URL of the study (when all instances belong to one study). */
  retrieveUrl: string | null;
  stored: readonly StowStoredInstance[];
  failed: readonly StowFailedInstance[];
}

export type StowResponseMediaType = 'application/dicom+json' | 'application/dicom+xml';

/** 200 all stored, 202 some failed, 409 none stored (PS3.18 10.5.3). */
export function stowHttpStatus(result: StowResult): 200 | 202 | 409 {
  if (result.failed.length === 0) return result.stored.length > 0 ? 200 : 409;
  return result.stored.length > 0 ? 202 : 409;
}

/**
 * The response media type from an Accept header: XML only when asked for (and preferred over JSON),
 * JSON otherwise; null when the client accepts neither (answer 406).
 */
export function negotiateStowResponseType(accept: string | undefined): StowResponseMediaType | null {
  if (accept === undefined || accept.trim() === '') return 'application/dicom+json';
  let best: { type: StowResponseMediaType; q: number } | null = null;
  for (const range of accept.split(',')) {
    const [rawType, ...params] = range.split(';');
    const type = rawType!.trim().toLowerCase();
    const qParam = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    const candidates: StowResponseMediaType[] =
      type === 'application/dicom+xml' ? ['application/dicom+xml']
      : type === 'application/dicom+json' || type === 'application/json' ? ['application/dicom+json']
      : type === '*/*' || type === 'application/*' ? ['application/dicom+json']
      : [];
    for (const c of candidates) if (best === null || q > best.q) best = { type: c, q };
  }
  return best?.type ?? null;
}

type JsonAttribute = { vr: string; Value?: unknown[] };
type JsonDataset = Record<string, JsonAttribute>;

function ui(value: string | null): JsonAttribute {
  return value === null ? { vr: 'UI' } : { vr: 'UI', Value: [value] };
}

/** The response as a DICOM JSON object. */
export function stowResponseJson(result: StowResult): JsonDataset {
  const out: JsonDataset = {};
  if (result.retrieveUrl !== null) out['00081190'] = { vr: 'UR', Value: [result.retrieveUrl] };
  if (result.failed.length > 0) {
    out['00081198'] = {
      vr: 'SQ',
      Value: result.failed.map((f) => ({
        '00081150': ui(f.sopClassUid),
        '00081155': ui(f.sopInstanceUid),
        '00081197': { vr: 'US', Value: [f.failureReason] },
      })),
    };
  }
  if (result.stored.length > 0) {
    out['00081199'] = {
      vr: 'SQ',
      Value: result.stored.map((s) => {
        const item: JsonDataset = { '00081150': ui(s.sopClassUid), '00081155': ui(s.sopInstanceUid) };
        if (s.retrieveUrl !== null) item['00081190'] = { vr: 'UR', Value: [s.retrieveUrl] };
        if (s.warningReason !== undefined) item['00081196'] = { vr: 'US', Value: [s.warningReason] };
        return item;
      }),
    };
  }
  return out;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmlAttribute(tag: string, vr: string, keyword: string, values: readonly (string | number)[], indent: string): string {
  const inner = values.map((v, i) => `${indent}  <Value number="${i + 1}">${xmlEscape(String(v))}</Value>\n`).join('');
  return `${indent}<DicomAttribute tag="${tag}" vr="${vr}" keyword="${keyword}">\n${inner}${indent}</DicomAttribute>\n`;
}

function xmlSequence(tag: string, keyword: string, items: readonly string[]): string {
  const body = items.map((content, i) => `    <Item number="${i + 1}">\n${content}    </Item>\n`).join('');
  return `  <DicomAttribute tag="${tag}" vr="SQ" keyword="${keyword}">\n${body}  </DicomAttribute>\n`;
}

function optionalUi(tag: string, keyword: string, value: string | null, indent: string): string {
  return value === null ? `${indent}<DicomAttribute tag="${tag}" vr="UI" keyword="${keyword}"/>\n` : xmlAttribute(tag, 'UI', keyword, [value], indent);
}

/** The response as a Native DICOM Model document. */
export function stowResponseXml(result: StowResult): string {
  const indent = '      ';
  let body = '';
  if (result.failed.length > 0) {
    body += xmlSequence(
      '00081198',
      'FailedSOPSequence',
      result.failed.map(
        (f) =>
          optionalUi('00081150', 'ReferencedSOPClassUID', f.sopClassUid, indent) +
          optionalUi('00081155', 'ReferencedSOPInstanceUID', f.sopInstanceUid, indent) +
          xmlAttribute('00081197', 'US', 'FailureReason', [f.failureReason], indent),
      ),
    );
  }
  if (result.stored.length > 0) {
    body += xmlSequence(
      '00081199',
      'ReferencedSOPSequence',
      result.stored.map(
        (s) =>
          xmlAttribute('00081150', 'UI', 'ReferencedSOPClassUID', [s.sopClassUid], indent) +
          xmlAttribute('00081155', 'UI', 'ReferencedSOPInstanceUID', [s.sopInstanceUid], indent) +
          (s.warningReason !== undefined ? xmlAttribute('00081196', 'US', 'WarningReason', [s.warningReason], indent) : '') +
          (s.retrieveUrl !== null ? xmlAttribute('00081190', 'UR', 'RetrieveURL', [s.retrieveUrl], indent) : ''),
      ),
    );
  }
  if (result.retrieveUrl !== null) body += xmlAttribute('00081190', 'UR', 'RetrieveURL', [result.retrieveUrl], '  ');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">\n${body}</NativeDicomModel>\n`;
}

/** Body and media type for a result, in the negotiated representation. */
export function renderStowResponse(result: StowResult, mediaType: StowResponseMediaType): string {
  return mediaType === 'application/dicom+xml' ? stowResponseXml(result) : JSON.stringify(stowResponseJson(result));
}
