// XDS timestamps: HL7 DTM restricted to UTC, `YYYY[MM[DD[hh[mm[ss]]]]]` (ITI TF-3 4.2.3.1.7).
// DESIGN.md: all XDS timestamps are UTC (the original network wrote local time).

export type XdsTimestampPrecision = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';

const PRECISION_BY_LENGTH: Readonly<Record<number, XdsTimestampPrecision>> = {
  4: 'year',
  6: 'month',
  8: 'day',
  10: 'hour',
  12: 'minute',
  14: 'second',
};
const LENGTH_BY_PRECISION: Readonly<Record<XdsTimestampPrecision, number>> = {
  year: 4,
  month: 6,
  day: 8,
  hour: 10,
  minute: 12,
  second: 14,
};

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** True for a well-formed, calendar-valid XDS timestamp (no time zone, no fractions). */
export function isXdsTimestamp(value: string): boolean {
  if (!/^\d+$/.test(value) || PRECISION_BY_LENGTH[value.length] === undefined) return false;
  const n = (from: number, len: number): number => Number(value.slice(from, from + len));
  const year = n(0, 4);
  if (value.length >= 6) {
    const month = n(4, 2);
    if (month < 1 || month > 12) return false;
    if (value.length >= 8) {
      const day = n(6, 2);
      if (day < 1 || day > daysInMonth(year, month)) return false;
    }
  }
  if (value.length >= 10 && n(8, 2) > 23) return false;
  if (value.length >= 12 && n(10, 2) > 59) return false;
  if (value.length >= 14 && n(12, 2) > 59) return false;
  return true;
}

export function xdsTimestampPrecision(value: string): XdsTimestampPrecision | undefined {
  return isXdsTimestamp(value) ? PRECISION_BY_LENGTH[value.length] : undefined;
}

/** Formats a Date in UTC at the given precision (default: seconds). */
export function formatXdsTimestamp(date: Date, precision: XdsTimestampPrecision = 'second'): string {
  const iso = date.toISOString(); // always UTC
  const full = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  return full.slice(0, LENGTH_BY_PRECISION[precision]);
}

/** The instant a timestamp starts at (missing parts are the earliest value), or undefined if invalid. */
export function parseXdsTimestamp(value: string): Date | undefined {
  if (!isXdsTimestamp(value)) return undefined;
  const padded = normalizeXdsTimestamp(value, 'start') as string;
  const n = (from: number, len: number): number => Number(padded.slice(from, from + len));
  return new Date(Date.UTC(n(0, 4), n(4, 2) - 1, n(6, 2), n(8, 2), n(10, 2), n(12, 2)));
}

/**
 * Widens a timestamp to 14 digits so that ranges compare as strings (and bind as SQL text):
 * 'start' fills with the earliest instant of the period, 'end' with the last second of it.
 * `200412` → start `20041201000000`, end `20041231235959`.
 */
export function normalizeXdsTimestamp(value: string, edge: 'start' | 'end'): string | undefined {
  if (!isXdsTimestamp(value)) return undefined;
  // Template of the parts after the year: MM DD hh mm ss.
  if (edge === 'start') return value + '0101000000'.slice(value.length - 4);
  const year = Number(value.slice(0, 4));
  const month = value.length >= 6 ? value.slice(4, 6) : '12';
  const day = value.length >= 8 ? value.slice(6, 8) : String(daysInMonth(year, Number(month))).padStart(2, '0');
  const hour = value.length >= 10 ? value.slice(8, 10) : '23';
  const minute = value.length >= 12 ? value.slice(10, 12) : '59';
  const second = value.length >= 14 ? value.slice(12, 14) : '59';
  return `${value.slice(0, 4)}${month}${day}${hour}${minute}${second}`;
}
