import mqtt, { type MqttClient } from 'mqtt';

/**
 * The script that plays the devices: a real MQTT client publishing recorded
 * payloads to the broker, QoS 1 (so `publish` resolves once the broker has
 * the message, and the broker forwards one client's messages in order).
 */
export interface Publisher {
  publish(topic: string, payload: string | Buffer, retain?: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startPublisher(
  url: string,
  auth: { username?: string; password?: string } = {},
): Promise<Publisher> {
  const client: MqttClient = await mqtt.connectAsync(url, {
    clean: true,
    reconnectPeriod: 0,
    protocolVersion: 4,
    ...auth,
  });
  return {
    publish: async (topic, payload, retain = false) =>
      void (await client.publishAsync(topic, payload, { qos: 1, retain })),
    close: () => client.endAsync(),
  };
}
