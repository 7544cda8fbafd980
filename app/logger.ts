import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Paths pino blanks out wherever they appear in a log line. Secrets are
 * resolved on use and never placed in the config object, so this is the second
 * fence, not the first.
 */
export const REDACT_PATHS = [
  'privateKey',
  '*.privateKey',
  '*.*.privateKey',
  'token',
  '*.token',
  '*.*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

export type { Logger };

/**
 * JSON lines by default (for log shippers); readable lines when stdout is a
 * terminal, unless MGX_LOG_FORMAT=json.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const wantPretty = destination === undefined && process.stdout.isTTY && process.env.MGX_LOG_FORMAT !== 'json';
  if (wantPretty)
    destination = pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,app' });
  return pino(
    {
      level,
      base: { app: 'mgx' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
