// Diagnostics hook. The method shape (fields object first, then message) matches pino, so a pino
// logger can be passed as is. The library only puts technical fields in `fields`: association id,
// AE titles, addresses, UIDs, status codes, byte counts and error codes; never data set content.

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface DimseLogger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

const noop = (): void => {};
export const silentLogger: DimseLogger = { debug: noop, info: noop, warn: noop, error: noop };
