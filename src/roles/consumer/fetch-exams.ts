// Fetches everything a patient's date of birth + access code give access to into a folder:
// per exam, the manifest (.dcm), the report (.pdf / .txt) and every image the manifest lists (.dcm,
// Part 10 as the imaging source sends it). Used by the CLI and, later, by the site-to-site import.
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DocumentConsumer, readManifestFile, type ConsumerOptions } from './document-consumer.ts';
import { fileAttachmentSink, type ReceivedFile } from './file-sink.ts';
import type { RetrievedDocument } from '../../lib/xds/index.ts';

export interface FetchSummary {
  readonly patientId: string;
  readonly exams: number;
  readonly manifests: number;
  readonly reports: number;
  readonly images: number;
  /** Written files, relative to the output folder. */
  readonly files: readonly string[];
}

/** File names come from remote identifiers: keep them to a safe alphabet (never a path). */
function safeName(id: string): string {
  const cleaned = id.replace(/[^0-9A-Za-z.-]/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 120) || 'unnamed';
}

function extensionFor(mimeType: string): string {
  if (mimeType === 'application/dicom') return '.dcm';
  if (mimeType === 'application/pdf') return '.pdf';
  if (mimeType.startsWith('text/plain')) return '.txt';
  return '.bin';
}

export async function fetchExamsToFolder(options: ConsumerOptions, dateOfBirth: string, accessCode: string, outDir: string): Promise<FetchSummary> {
  const consumer = new DocumentConsumer(options);
  const patientId = consumer.patientIdFor(dateOfBirth, accessCode);
  const exams = await consumer.findExams(patientId);
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  let manifests = 0;
  let reports = 0;
  let images = 0;
  const place = async (doc: RetrievedDocument<ReceivedFile>, folder: string, base: string): Promise<void> => {
    if (!doc.binary) return;
    const relative = join(folder, base + extensionFor(doc.mimeType));
    await mkdir(join(outDir, folder), { recursive: true });
    await rename(doc.binary.ref.path, join(outDir, relative));
    files.push(relative);
  };
  for (const [n, exam] of exams.entries()) {
    const staging = join(outDir, '.incoming');
    await mkdir(staging, { recursive: true });
    const sink = fileAttachmentSink(staging);
    try {
      const retrieved = await consumer.retrieveDocuments([...exam.manifests, ...exam.reports], sink, patientId);
      const manifestIds = new Set(exam.manifests.map((m) => m.uniqueId));
      let folder = `exam-${n + 1}`;
      for (const doc of retrieved.filter((d) => manifestIds.has(d.documentUniqueId))) {
        if (!doc.binary) continue;
        const manifest = await readManifestFile(doc.binary.ref);
        folder = safeName(manifest.studyInstanceUid);
        const repository = exam.manifests.find((m) => m.uniqueId === doc.documentUniqueId)?.repositoryUniqueId ?? doc.repositoryUniqueId;
        await place(doc, folder, `manifest-${safeName(manifest.sopInstanceUid)}`);
        manifests++;
        const imageDocs = await consumer.retrieveImages(manifest, repository, sink, patientId);
        for (const img of imageDocs) await place(img, join(folder, 'images'), safeName(img.documentUniqueId));
        images += imageDocs.filter((d) => d.binary).length;
      }
      for (const doc of retrieved.filter((d) => !manifestIds.has(d.documentUniqueId))) {
        await place(doc, folder, `report-${safeName(doc.documentUniqueId)}`);
        reports++;
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return { patientId, exams: exams.length, manifests, reports, images, files };
}
