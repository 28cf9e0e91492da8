// PLACEHOLDER (being written): STOW-RS intake, WADO-URI (RAD-55) and the ImagingInstanceSource.
import type { ClearinghouseOptions } from '../clearinghouse-role.ts';
import type { ImagingInstanceSource } from '../imaging-source.ts';

export interface ImageStoreRole {
  source: ImagingInstanceSource;
  close(): Promise<void>;
}

export async function startImageStore(_opts: ClearinghouseOptions): Promise<ImageStoreRole> {
  return {
    source: { findInstance: async () => ({ kind: 'not-found' }) },
    close: async () => undefined,
  };
}
