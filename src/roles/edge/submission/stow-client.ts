// STOW-RS client (PS3.18 10.5): one POST of multipart/related; type="application/dicom" per batch,
// each part a Part 10 file streamed from its source (never buffered whole), over HTTP or HTTPS with a
// client certificate. The answer's ReferencedSOPSequence says which instances the server stored.
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { endpoint, type ClearinghouseTarget } from './clearinghouse-target.ts';
import { SubmissionStepError } from './errors.ts';

export interface StowPart {
  readonly sopInstanceUid: string;
  /** Opened when the part is written: the Part 10 bytes (File Meta + dataset). */
  open(): Readable;
}

export interface StowResult {
  readonly httpStatus: number;
  /** SOP Instance UIDs in ReferencedSOPSequence (stored, possibly with a warning). */
  readonly stored: readonly string[];
  /** FailedSOPSequence entries. */
  readonly failed: readonly { sopInstanceUid: string; reason: number | null }[];
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

async function* multipartBody(parts: readonly StowPart[], boundary: string): AsyncGenerator<Buffer> {
  for (const part of parts) {
    yield Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
    for await (const chunk of part.open()) yield chunk as Buffer;
    yield Buffer.from('\r\n', 'latin1');
  }
  yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
}

interface DicomJsonElement {
  vr?: string;
  Value?: unknown[];
}
type DicomJsonDataset = Record<string, DicomJsonElement | undefined>;

function sequenceItems(ds: DicomJsonDataset, tag: string): DicomJsonDataset[] {
  return (ds[tag]?.Value ?? []).filter((v): v is DicomJsonDataset => typeof v === 'object' && v !== null);
}

function firstString(ds: DicomJsonDataset, tag: string): string | null {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'string' ? v : null;
}

/** Reads the STOW-RS response (DICOM JSON, PS3.18 F.2): stored and failed instances. */
export function readStowResponse(body: string, httpStatus: number): StowResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { httpStatus, stored: [], failed: [] };
  }
  const ds = (Array.isArray(parsed) ? parsed[0] : parsed) as DicomJsonDataset | undefined;
  if (!ds || typeof ds !== 'object') return { httpStatus, stored: [], failed: [] };
  const stored = sequenceItems(ds, '00081199')
    .map((i) => firstString(i, '00081155'))
    .filter((u): u is string => u !== null);
  const failed = sequenceItems(ds, '00081198').map((i) => {
    const reason = i['00081197']?.Value?.[0];
    return { sopInstanceUid: firstString(i, '00081155') ?? '', reason: typeof reason === 'number' ? reason : null };
  });
  return { httpStatus, stored, failed };
}

export async function stowInstances(target: ClearinghouseTarget, parts: readonly StowPart[], options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<StowResult> {
  const url = new URL(endpoint(target, '/dicomweb/studies'));
  const boundary = `stow_${randomBytes(16).toString('hex')}`;
  const isHttps = url.protocol === 'https:';
  const tls = target.tls ?? {};
  const req = (isHttps ? https : http).request(url, {
    method: 'POST',
    signal: options.signal,
    headers: {
      ...target.headers,
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      accept: 'application/dicom+json',
    },
    ...(isHttps ? { key: tls.key, cert: tls.cert, ca: tls.ca as https.RequestOptions['ca'], rejectUnauthorized: tls.rejectUnauthorized ?? true, servername: tls.servername } : {}),
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  req.setTimeout(timeoutMs, () => req.destroy(new Error(`no activity from ${url.host} for ${timeoutMs} ms`)));
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  response.catch(() => undefined);
  try {
    await pipeline(Readable.from(multipartBody(parts, boundary)), req).catch(async (err: unknown) => {
      // The server may refuse early (401, 413) and close: its answer explains more than EPIPE.
      await response.catch(() => {
        throw err;
      });
    });
    const res = await response;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > MAX_RESPONSE_BYTES) throw new Error('STOW-RS response too large');
      chunks.push(chunk as Buffer);
    }
    const status = res.statusCode ?? 0;
    const text = Buffer.concat(chunks).toString('utf8');
    if (status === 200 || status === 202 || status === 409) return readStowResponse(text, status);
    // 4xx other than 409 (auth, bad request, not found) are configuration problems, still retried:
    // an operator can fix them without touching the job.
    throw new SubmissionStepError('stow', `STOW-RS to ${url.host} answered HTTP ${status}: ${text.slice(0, 300)}`, false);
  } catch (err) {
    if (err instanceof SubmissionStepError) throw err;
    throw new SubmissionStepError('stow', `STOW-RS to ${url.host} failed: ${(err as Error).message}`, false, { cause: err });
  }
}
