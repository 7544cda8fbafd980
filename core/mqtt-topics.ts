/**
 * MQTT topic names, in one place: the bridge (`mgx bridge --mqtt`) publishes
 * where the engine subscribes, and several microgrids share one broker by
 * `microgrid.id`. Ids are ID_PATTERN (letters, digits, ".", "_", ":", "-"),
 * so they never hold "/", "+" or "#".
 */
export interface TopicBase {
  /** `mqtt.topicPrefix`, e.g. "mgx". */
  prefix: string;
  /** `microgrid.id`. */
  microgrid: string;
}

/** `<prefix>/<microgrid>` — everything of one microgrid is below it. */
export const microgridTopic = (b: TopicBase): string => `${b.prefix}/${b.microgrid}`;

/** Where a gateway publishes one meter's signed readings (QoS 1, not retained). */
export const readingsTopic = (b: TopicBase, meterId: string): string => `${microgridTopic(b)}/readings/${meterId}`;

/** What the engine subscribes to for readings: its own microgrid's meters only. */
export const readingsFilter = (b: TopicBase): string => `${microgridTopic(b)}/readings/+`;

/** The meter id of a readings topic, or null when the topic is not one of this microgrid's. */
export function meterOfReadingsTopic(b: TopicBase, topic: string): string | null {
  const head = `${microgridTopic(b)}/readings/`;
  if (!topic.startsWith(head)) return null;
  const id = topic.slice(head.length);
  return id.length > 0 && !id.includes('/') ? id : null;
}

/** The engine's availability: retained "online", and "offline" as its last will. */
export const availabilityTopic = (b: TopicBase): string => `${microgridTopic(b)}/status`;

export const ONLINE = 'online';
export const OFFLINE = 'offline';
