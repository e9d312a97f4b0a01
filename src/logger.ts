// Structured JSON logs (pino). Secrets never reach a log line: the redaction list covers every place a key or
// secret can appear (headers, mutation payloads, config).
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'secret',
  '*.secret',
  'adminKey',
  '*.adminKey',
  'token',
  '*.token',
  'variables.*.secret',
  'config.adminKey',
  'config.signingSecret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'pretext' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
