// Value Representations (PS3.5 6.2) and the facts about them that encoders and sniffers need.

export const VALUE_REPRESENTATIONS = [
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
] as const;

export type ValueRepresentation = (typeof VALUE_REPRESENTATIONS)[number];

const VR_SET: ReadonlySet<string> = new Set(VALUE_REPRESENTATIONS);

/** VRs whose explicit-VR header is 12 bytes: 2 reserved bytes then a 32-bit length (PS3.5 7.1.2). */
const LONG_HEADER_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

export function isValueRepresentation(vr: string): vr is ValueRepresentation {
  return VR_SET.has(vr);
}

export function hasLongExplicitHeader(vr: string): boolean {
  return LONG_HEADER_VRS.has(vr);
}

/** VR by its two bytes (first byte << 8 | second): a table lookup, no string built per element. */
const VR_BY_CODE = new Map<number, ValueRepresentation>(VALUE_REPRESENTATIONS.map((vr) => [(vr.charCodeAt(0) << 8) | vr.charCodeAt(1), vr]));

/** Reads two bytes as a VR if they are one of the defined VRs, else null. Cheap: used on hot paths. */
export function vrAt(bytes: Uint8Array, offset: number): ValueRepresentation | null {
  if (offset + 2 > bytes.length) return null;
  return VR_BY_CODE.get((bytes[offset]! << 8) | bytes[offset + 1]!) ?? null;
}

/** Padding byte for an odd-length value: NUL for UI and binary VRs, space for text (PS3.5 6.2). */
export function paddingByteFor(vr: ValueRepresentation): number {
  return vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0x00 : 0x20;
}
