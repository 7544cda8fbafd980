/** What the bridge logs through (pino's shape; the app passes its logger). */
export interface BridgeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
