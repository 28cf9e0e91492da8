// Structured logs (pino, JSON lines on standard error). No PHI in logs: fields that could carry
// patient data are redacted here as a safety net; code logs UIDs, AE titles and counts instead.
import { pino, type Logger } from 'pino';

export type { Logger };

const phiFields = [
  'patientName', 'patientId', 'patientBirthDate', 'birthDate', 'dob', 'accessionNumber', 'password',
  'accessCode', 'email', 'token', 'authorization', 'cookie',
];

export function createLogger(level: string = process.env.IMAGESHARE_LOG_LEVEL || 'info'): Logger {
  return pino(
    {
      level,
      base: { app: 'imageshare' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...phiFields, ...phiFields.map((f) => `*.${f}`), 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: 'silent' });
