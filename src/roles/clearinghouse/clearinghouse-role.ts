// The clearinghouse role (the hub): the image store (STOW-RS intake, WADO-URI, the instance source of
// RAD-69) and the XDS.b registry + repository with the XDS-I.b Imaging Document Source, on the shared
// HTTP(S) ports. Retention removes registry entries and bytes together.
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/schema.ts';
import type { Database } from '../../storage/db/schema.ts';
import type { BlobStore } from '../../storage/blob/blob-store.ts';
import type { Logger } from '../../util/log.ts';
import type { AuditTrail } from '../../server/audit-trail.ts';
import type { NetworkIdentity } from '../../server/identity.ts';
import { startImageStore, type ImageStoreRole } from './images/image-store-role.ts';
import { startXdsServices, type XdsRole } from './xds/xds-role.ts';

export interface ClearinghouseOptions {
  config: Config;
  identity: NetworkIdentity;
  db: Kysely<Database>;
  blobs: BlobStore;
  app: FastifyInstance;
  audit: AuditTrail;
  log: Logger;
}

export interface ClearinghouseRole {
  images: ImageStoreRole;
  xds: XdsRole;
  close(): Promise<void>;
}

export async function startClearinghouse(opts: ClearinghouseOptions): Promise<ClearinghouseRole> {
  const images = await startImageStore(opts);
  const xds = await startXdsServices({ ...opts, images });
  return {
    images,
    xds,
    async close() {
      await xds.close();
      await images.close();
    },
  };
}
