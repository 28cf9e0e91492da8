// Tag numbers: (group << 16 | element) as unsigned numbers, e.g. 0x00100010 for Patient's Name.

/** 'GGGG,EEEE' in upper-case hex, the form used in messages and problem reports. */
export function formatTag(tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `${hex.slice(0, 4)},${hex.slice(4)}`;
}
