import type { Clock } from '../core/clock.js';
import type { AlarmEvent, DeviceStatus, EventBus } from '../core/events.js';
import type { AlarmCode } from '../core/alarm-codes.js';

/**
 * Turns state changes other modules report into alarms an operator reads
 * (the dashboard lists them first; the log has them as warnings): a device
 * going offline and coming back, the chain becoming unreachable and
 * returning, a settlement error. Each is raised once per change, not per poll;
 * the event that ends a condition names the alarm it clears (`clears`), so
 * the live view lists current alarms first and the cleared ones below.
 */
export function raiseOperationalAlarms(bus: EventBus, clock: Clock): () => void {
  const last = new Map<string, DeviceStatus>();
  const alarm = (
    severity: AlarmEvent['severity'],
    code: AlarmCode,
    subject: string,
    message: string,
    clears?: AlarmCode,
  ): void =>
    bus.emit({
      type: 'alarm',
      severity,
      code,
      subject,
      message,
      at: new Date(clock.now()).toISOString(),
      ...(clears ? { clears } : {}),
    });

  const offHealth = bus.on('device-health', (e) => {
    const before = last.get(e.deviceId);
    last.set(e.deviceId, e.status);
    if (e.status === 'offline' && before !== 'offline')
      alarm(
        'critical',
        'DEVICE_OFFLINE',
        e.deviceId,
        `device ${e.deviceId} is offline${e.lastError ? ` (${e.lastError})` : ''}; its meters do not trade until it answers again`,
      );
    // An inverter that says it sleeps answers: that ends an offline alarm too, and is no alarm of its own.
    if ((e.status === 'online' || e.status === 'asleep') && before === 'offline')
      alarm(
        'info',
        'DEVICE_ONLINE',
        e.deviceId,
        `device ${e.deviceId} answers again${e.status === 'asleep' ? ' (asleep)' : ''}`,
        'DEVICE_OFFLINE',
      );
  });
  const offSettlement = bus.on('settlement-state', (e) => {
    if (e.state === 'chain-unavailable')
      alarm(
        'critical',
        'CHAIN_UNAVAILABLE',
        'chain',
        `the chain does not answer${e.detail ? ` (${e.detail})` : ''}; settled intervals queue and are sent in order when it returns`,
      );
    if (e.state === 'chain-available')
      alarm(
        'info',
        'CHAIN_AVAILABLE',
        'chain',
        'the chain answers again; queued intervals are being sent',
        'CHAIN_UNAVAILABLE',
      );
    if (e.state === 'stalled')
      alarm(
        'critical',
        'SETTLEMENT_STALLED',
        e.interval,
        `settlement of ${e.interval} has waited on the chain longer than chain.stalledAfterSeconds${e.detail ? ` (${e.detail})` : ''}; \`mgx status\` shows what it waits for`,
      );
    if (e.state === 'resumed')
      alarm(
        'info',
        'SETTLEMENT_RESUMED',
        e.interval,
        `settlement of ${e.interval} went through; the queue moves again`,
        'SETTLEMENT_STALLED',
      );
    if (e.state === 'error')
      alarm(
        'critical',
        'SETTLEMENT_FAILED',
        e.interval || 'chain',
        `settlement failed${e.interval ? ` for ${e.interval}` : ''}${e.detail ? `: ${e.detail}` : ''}; the submitter retries`,
      );
  });
  return () => {
    offHealth();
    offSettlement();
  };
}
