import type { Logger } from './logger.js';

/**
 * SIGINT/SIGTERM: the first one stops the app in order (schedulers, sinks,
 * server, ledger) and exits 0; a second one, or a stop that takes longer than
 * `graceMs`, exits at once. The ledger is consistent either way: every write
 * is a transaction.
 */
export function installSignalHandlers(stop: () => Promise<void>, log: Logger, graceMs = 9_000): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'stopping (press Ctrl-C again to exit at once)');
    const timer = setTimeout(() => {
      log.error({ graceMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
