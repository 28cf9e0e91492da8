// What the XDS routes share: storage, audit, logging, limits, the image source of RAD-69.
import type { Kysely } from 'kysely';
import type { SoapMessageLimits } from '../../../lib/soap/index.ts';
import type { AuditTrail } from '../../../server/audit-trail.ts';
import type { Database } from '../../../storage/db/schema.ts';
import type { Logger } from '../../../util/log.ts';
import type { ImagingInstanceSource } from '../imaging-source.ts';
import type { RegistryStore } from './registry-store.ts';
import type { RepositoryStore } from './repository-store.ts';

export interface XdsContext {
  readonly db: Kysely<Database>;
  readonly registry: RegistryStore;
  readonly repository: RepositoryStore;
  readonly audit: AuditTrail;
  readonly log: Logger;
  readonly limits?: Partial<SoapMessageLimits>;
  /** Read at each RAD-69 request (the image store may be replaced, e.g. in tests). */
  readonly images: { readonly source: ImagingInstanceSource };
  readonly now: () => Date;
}
