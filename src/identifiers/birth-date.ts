// Dates of birth as people and systems write them, normalised to YYYYMMDD.
export class BirthDateError extends Error {
  readonly code = 'INVALID_BIRTH_DATE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BirthDateError';
  }
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function valid(y: number, m: number, d: number): boolean {
  if (y < 1850 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

/**
 * Accepts YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, DD.MM.YYYY, "12 Mar 1970", "Mar 12, 1970" and MM/DD/YYYY
 * (the US form; DD/MM/YYYY is taken when the first number cannot be a month).
 */
export function normalizeBirthDate(input: string): string {
  const s = input.trim().toLowerCase();
  let y: number, m: number, d: number;
  let match: RegExpExecArray | null;
  if ((match = /^(\d{4})(\d{2})(\d{2})$/.exec(s)) || (match = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(s))) {
    [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else if ((match = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(s))) {
    [d, m, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else if ((match = /^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$/.exec(s))) {
    const a = Number(match[1]);
    const b = Number(match[2]);
    [m, d] = a > 12 ? [b, a] : [a, b];
    y = Number(match[3]);
  } else if ((match = /^(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{4})$/.exec(s))) {
    [d, m, y] = [Number(match[1]), MONTHS.indexOf(match[2]!) + 1, Number(match[3])];
  } else if ((match = /^([a-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})$/.exec(s))) {
    [m, d, y] = [MONTHS.indexOf(match[1]!) + 1, Number(match[2]), Number(match[3])];
  } else {
    throw new BirthDateError('the date of birth is not in a recognised form (for example 1970-03-12)');
  }
  if (!valid(y, m, d)) throw new BirthDateError('the date of birth is not a real date');
  return `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
}
