// The part of dcmjs (0.50) the KOS builder and reader use, typed here because dcmjs ships no types.
// Loaded through createRequire so no ambient `declare module` is needed (other features may use
// dcmjs with their own view of it).
import { createRequire } from 'node:module';

/** One element of a dcmjs "dict" dataset: VR and values (sequences hold nested dicts). */
export interface DcmjsElement {
  vr: string;
  Value?: unknown[];
}

export type DcmjsDataset = Record<string, DcmjsElement>;

export interface DcmjsDicomDict {
  meta: DcmjsDataset;
  dict: DcmjsDataset;
  write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
}

interface DcmjsModule {
  data: {
    DicomDict: new (meta: DcmjsDataset) => DcmjsDicomDict;
    DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean }): { meta: DcmjsDataset; dict: DcmjsDataset };
    };
  };
  log: { setLevel(level: string): void };
}

const require = createRequire(import.meta.url);
export const dcmjs = require('dcmjs') as DcmjsModule;
// dcmjs logs warnings with console.* by default; our logs go through pino, keep its quiet.
dcmjs.log.setLevel('error');
