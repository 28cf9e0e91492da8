// Helpers shared by the SOAP and XDS tests (not used by production code).
import { Readable } from 'node:stream';

/** HTTP Content-Type of NIST's PnrXop body (ihe-samples/README.md, from the companion testplan). */
export const NIST_PNR_BOUNDARY = 'MIMEBoundary_95b57d7287e4fa4b528a8f050c41f8ad829c20332f23b48d';
export const NIST_PNR_CONTENT_TYPE =
  `multipart/related; boundary="${NIST_PNR_BOUNDARY}"; type="application/xop+xml"; ` +
  'start-info="application/soap+xml"; action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"';
export const NIST_PNR_ATTACHMENT_CID = '1.b5b57d7287e4fa4b528a8f050c41f8ad829c20332f23b48d@apache.org';

/**
 * Converts a multipart body stored with LF line endings to what goes on the wire, as the
 * samples README says: boundary lines, the line break before each boundary and part header
 * lines become CRLF; part content keeps its bytes.
 */
export function crlfFraming(lfBody: Buffer, boundary: string): Buffer {
  const text = lfBody.toString('latin1');
  const lines = text.split('\n');
  const out: string[] = [];
  let state: 'preamble' | 'headers' | 'content' | 'epilogue' = 'preamble';
  let content: string[] = [];
  const isBoundary = (l: string): boolean => l === `--${boundary}` || l === `--${boundary}--`;
  for (const line of lines) {
    if (state !== 'epilogue' && isBoundary(line)) {
      if (state === 'content') out.push(content.join('\n'), '\r\n');
      content = [];
      out.push(line, '\r\n');
      state = line.endsWith('--') ? 'epilogue' : 'headers';
      continue;
    }
    if (state === 'headers') {
      out.push(line, '\r\n');
      if (line === '') state = 'content';
    } else if (state === 'content') {
      content.push(line);
    } else if (state === 'epilogue' && line !== '') {
      out.push(line, '\n');
    }
  }
  return Buffer.from(out.join(''), 'latin1');
}

/** A Readable that yields `data` in chunks of `chunkSize` bytes (exercises chunk boundaries). */
export function chunkedReadable(data: Buffer, chunkSize: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

/** Deterministic PRNG (mulberry32) for fuzz tests that must reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
