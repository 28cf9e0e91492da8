// PLACEHOLDER (being written): XDS.b registry + repository, XDS-I.b Imaging Document Source.
import type { ClearinghouseOptions } from '../clearinghouse-role.ts';
import type { ImageStoreRole } from '../images/image-store-role.ts';

export interface XdsRole {
  close(): Promise<void>;
}

export async function startXdsServices(_opts: ClearinghouseOptions & { images: ImageStoreRole }): Promise<XdsRole> {
  return { close: async () => undefined };
}
