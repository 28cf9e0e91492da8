// WADO-URI (PS3.18 9, IHE RAD-55): GET /wado?requestType=WADO&studyUID=&seriesUID=&objectUID=
// &contentType=application/dicom[&transferSyntax=] answers the instance as a Part 10 file. Rendered
// images (image/jpeg and the like) are not produced yet: such requests get 406.
import type { FastifyInstance } from 'fastify';
import { isValidUid } from '../../../lib/dicom/uid.ts';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../../lib/dicom/transfer-syntax.ts';
import type { ImagingInstanceSource } from '../imaging-source.ts';
import { identifyRequester, requireNodeOrStaff, type Requester } from './requester.ts';

export interface WadoUriRoutesOptions {
  source: ImagingInstanceSource;
  /** Study → patient ID, for the audit message. */
  onRetrieved?: (event: { requester: Requester; studyInstanceUid: string; sopClassUid: string; sopInstanceUid: string; outcome: 'success' | 'serious-failure' }) => void;
}

const DICOM_MEDIA_TYPE = 'application/dicom';

function single(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

export async function registerWadoUriRoutes(app: FastifyInstance, opts: WadoUriRoutesOptions): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireNodeOrStaff);
    scope.get('/wado', async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const requestType = single(query.requestType);
      const studyUid = single(query.studyUID);
      const seriesUid = single(query.seriesUID);
      const objectUid = single(query.objectUID);
      const contentType = single(query.contentType);
      const transferSyntax = single(query.transferSyntax);
      if (requestType !== 'WADO') return reply.code(400).send({ error: 'requestType=WADO is required' });
      for (const [name, value] of [['studyUID', studyUid], ['seriesUID', seriesUid], ['objectUID', objectUid]] as const) {
        if (value === undefined || value === '') return reply.code(400).send({ error: `${name} is required` });
        if (!isValidUid(value)) return reply.code(400).send({ error: `${name} is not a valid UID` });
      }
      if (transferSyntax !== undefined && !isValidUid(transferSyntax)) return reply.code(400).send({ error: 'transferSyntax is not a valid UID' });
      // contentType may list several types in order of preference (PS3.18 9.1.2.1.2).
      const wanted = (contentType ?? '').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase()).filter((t) => t !== '');
      if (!wanted.includes(DICOM_MEDIA_TYPE)) {
        return reply.code(406).send({ error: 'only contentType=application/dicom is available (rendered images are not produced yet)' });
      }
      // Without transferSyntax the default is Explicit VR Little Endian (PS3.18 9.1.2.1.7); when the
      // instance cannot be made so here, the stored syntax is sent rather than nothing.
      let lookup = await opts.source.findInstance(
        { studyInstanceUid: studyUid!, seriesInstanceUid: seriesUid!, sopInstanceUid: objectUid! },
        [transferSyntax ?? EXPLICIT_VR_LITTLE_ENDIAN],
      );
      if (lookup.kind === 'transfer-syntax-unavailable' && transferSyntax === undefined) {
        lookup = await opts.source.findInstance({ studyInstanceUid: studyUid!, seriesInstanceUid: seriesUid!, sopInstanceUid: objectUid! }, []);
      }
      const requester = identifyRequester(request)!;
      if (lookup.kind === 'not-found') return reply.code(404).send({ error: 'no such object' });
      if (lookup.kind === 'transfer-syntax-unavailable') {
        return reply.code(406).send({ error: `the object cannot be provided in ${transferSyntax}`, storedTransferSyntaxUid: lookup.storedTransferSyntaxUid });
      }
      const { instance } = lookup;
      const stream = instance.open();
      stream.once('end', () => opts.onRetrieved?.({ requester, studyInstanceUid: studyUid!, sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid, outcome: 'success' }));
      stream.once('error', () => opts.onRetrieved?.({ requester, studyInstanceUid: studyUid!, sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid, outcome: 'serious-failure' }));
      reply.header('Content-Type', `${DICOM_MEDIA_TYPE}; transfer-syntax=${instance.transferSyntaxUid}`);
      reply.header('Content-Disposition', `attachment; filename="${instance.sopInstanceUid}.dcm"`);
      if (instance.sizeBytes !== null) reply.header('Content-Length', String(instance.sizeBytes));
      return reply.send(stream);
    });
  });
}
