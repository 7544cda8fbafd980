import type { IClientPublishOptions } from 'mqtt';
import type { Config } from '../../core/config/schema.js';
import type { Clock } from '../../core/clock.js';
import { stateRank } from '../../core/interval-state.js';
import { parseIntervalStart, toIso } from '../../core/interval.js';
import { microgridTopic } from '../../core/mqtt-topics.js';
import type { Ledger } from '../../ledger/ledger.js';
import { getInterval, listIntervals } from '../../ledger/intervals.js';
import { listMeters, listParticipants } from '../../ledger/participants.js';
import { listClearings } from '../../ledger/clearing.js';
import type { HubFrame, LiveHub } from '../../dashboard/live/hub.js';
import type { MeterLive } from '../../dashboard/live/model.js';
import { participantToday } from '../../dashboard/participant-today.js';
import { creditRows } from '../../dashboard/credit-rows.js';
import { summarize } from '../../dashboard/routes/intervals.js';
import type { Logger } from '../logger.js';
import type { EngineMqtt } from './connection.js';
import { discoveryConfigs, discoveryFilter, type PublishedHousehold } from './discovery.js';
import { readRetained } from './read-retained.js';
import {
  gridIntervalTopic,
  gridStateTopic,
  householdOfTopic,
  householdsFilter,
  householdStateTopic,
  householdTodayTopic,
} from './state-topics.js';

export interface StateOutOptions {
  mqtt: EngineMqtt;
  /** The dashboard's live hub: the same state, frames and seq as /api/state. */
  hub: LiveHub;
  ledger: Ledger;
  config: Config;
  clock: Clock;
  log: Logger;
  version: string;
  /** A topic is published at most once per this many real ms (default 1000): the newest state wins. */
  everyMs?: number;
  /** Real wall time (tests). */
  now?: () => number;
}

export interface StateOut {
  /** The households published (the listed ones that exist). */
  households: readonly PublishedHousehold[];
  /**
   * How many retained topics of households no longer listed, and discovery configs no longer wanted, were cleared at
   * start.
   */
  cleared: number;
  close(): void;
}

/** A household's meter in its state document: the live model's values, as /api/state has them. */
type MeterOut = Pick<MeterLive, 'role' | 'powerW' | 'importWh' | 'exportWh' | 'ts' | 'quality'>;

/**
 * While more than this is waiting in the socket, a round is skipped (the broker is slower than we publish): the next
 * carries the newest state.
 */
const BACKLOG_BYTES = 1 << 20;

/**
 * Publishes the live state to the broker for Home Assistant and other
 * subscribers: the microgrid's balance, each settled interval's result, and
 * for each household listed in `mqtt.households` (and only those) its meters
 * and its day so far. The numbers are the dashboard's: the live hub's state
 * (what /api/state serves, with its frame `seq`), and the same functions as
 * /api/participants/:id/today, /api/credits and /api/intervals.
 *
 * Rate bound: frames only mark topics dirty; a round publishes each dirty
 * topic once, at most every `everyMs`, and only when its content changed, so
 * 1,000 meters read every second cost at most one message per household per
 * second, whatever the poll rate. Live topics go QoS 0 (a lost one is
 * replaced within a second), the day, the interval results and discovery
 * QoS 1. While the broker is away nothing is queued: the connection's return
 * publishes the newest state of everything.
 */
export async function startStateOut(o: StateOutOptions): Promise<StateOut> {
  const { mqtt, hub, ledger, config, clock, log } = o;
  const m = config.mqtt!;
  const topics = mqtt.topics;
  const client = mqtt.client;
  const everyMs = o.everyMs ?? 1000;
  const now = o.now ?? Date.now;

  // Who is published: the listed participants that exist (config validation checked the ids), with their meters.
  const participants = listParticipants(ledger);
  const wanted = m.households === 'all' ? new Set(participants.map((p) => p.id)) : new Set(m.households);
  const meters = listMeters(ledger);
  const households: PublishedHousehold[] = participants
    .filter((p) => wanted.has(p.id))
    .map((p) => ({
      id: p.id,
      name: p.name,
      meters: meters.filter((x) => x.participantId === p.id).map((x) => ({ id: x.id, role: x.role })),
    }));
  const listed = new Set(households.map((h) => h.id));
  const ownerOf = new Map(households.flatMap((h) => h.meters.map((x) => [x.id, h.id] as const)));

  // Read back what is retained: discovery configs this microgrid no longer wants, and the retained
  // state of households no longer listed, are cleared (an empty retained message deletes it; HA
  // removes the entity). A household taken off the list leaves nothing of its data on the broker.
  const configs = m.discovery ? discoveryConfigs(config, topics, households, o.version) : [];
  const desired = new Set(configs.map((c) => c.topic));
  const back = await readRetained(
    client,
    [discoveryFilter(config, topics), householdsFilter(topics)],
    `${microgridTopic(topics)}/engine/sync`,
  );
  if (!back.complete)
    log.warn(
      { found: back.retained.size },
      'mqtt: the broker did not confirm the end of its retained messages in time; clearing what arrived',
    );
  const stale = [...back.retained.keys()].filter((t) => {
    const h = householdOfTopic(topics, t);
    return h === null ? !desired.has(t) : !listed.has(h);
  });
  await Promise.all(stale.map((t) => client.publishAsync(t, '', { qos: 1, retain: true })));
  if (stale.length > 0)
    log.info(
      { cleared: stale.length },
      `mqtt: cleared ${stale.length} retained topic(s) of households no longer published or entities no longer offered`,
    );

  const publishDiscovery = async () => {
    await Promise.all(
      configs.map((c) => client.publishAsync(c.topic, JSON.stringify(c.payload), { qos: 1, retain: true })),
    );
  };
  await publishDiscovery();

  // --- State documents, computed from the hub's state and the ledger -----------------------------
  const last = new Map<string, string>(); // topic → the content last published (without seq/at/to)
  let warned = 0;
  const publish = (
    topic: string,
    doc: Record<string, unknown>,
    volatile: readonly string[],
    opts: IClientPublishOptions,
  ) => {
    const content = JSON.stringify(doc, (k, v) => (volatile.includes(k) ? undefined : v));
    if (last.get(topic) === content) return;
    last.set(topic, content);
    client.publish(topic, JSON.stringify(doc), opts, (err) => {
      if (!err) return;
      last.delete(topic); // sent again next round
      if (now() - warned < 60_000) return;
      warned = now();
      log.warn({ err: err.message, topic }, `mqtt: publishing ${topic} failed: ${err.message}`);
    });
  };
  const LIVE: IClientPublishOptions = { qos: 0, retain: true };
  const KEPT: IClientPublishOptions = { qos: 1, retain: true };
  const frameHead = () => ({ seq: hub.seq, at: toIso(clock.now()) });

  const gridState = () => {
    const s = hub.state;
    publish(
      gridStateTopic(topics),
      {
        ...frameHead(),
        currentInterval: s.currentInterval,
        currentIntervalState: s.currentIntervalState,
        balance: s.balance,
      },
      ['seq', 'at'],
      LIVE,
    );
  };
  const householdState = (h: PublishedHousehold) => {
    const out: Record<string, MeterOut | null> = {};
    for (const x of h.meters) {
      const live = hub.state.meters[x.id];
      out[x.id] = live
        ? {
            role: live.role,
            powerW: live.powerW,
            importWh: live.importWh,
            exportWh: live.exportWh,
            ts: live.ts,
            quality: live.quality,
          }
        : null;
    }
    publish(householdStateTopic(topics, h.id), { ...frameHead(), meters: out }, ['seq', 'at'], LIVE);
  };
  const householdToday = (h: PublishedHousehold) => {
    const t = clock.now();
    const today = participantToday(ledger, config, h.id, t);
    const day = t - (t % 86_400_000);
    const creditsWh = creditRows(ledger, { from: day, to: t + 1 }, h.id).reduce((a, c) => a + c.creditsWh, 0);
    publish(householdTodayTopic(topics, h.id), { ...today, creditsWh }, ['to'], KEPT);
  };
  const intervalResult = (start: number) => {
    const row = getInterval(ledger, start);
    if (!row) return;
    publish(
      gridIntervalTopic(topics),
      {
        start: toIso(start),
        state: row.state,
        updatedAt: toIso(row.updatedAt),
        ...summarize(listClearings(ledger, { start })),
      },
      [],
      KEPT,
    );
  };
  const lastSettled = () =>
    listIntervals(ledger, { limit: 200 }).find((r) => stateRank(r.state) >= stateRank('settled'));

  // --- Dirty marks and rounds ---------------------------------------------------------------------
  const dirty = new Set<string>(households.map((h) => h.id));
  let gridDirty = true;
  let todayDirty = true;
  let settled: number | null = lastSettled()?.start ?? null;
  /**
   * The newest interval whose result went out: an older one's later states (committed, final) must not take its
   * retained place.
   */
  let newestResult = -Infinity;
  let currentInterval = hub.state.currentInterval;
  let lastRound = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const round = () => {
    timer = undefined;
    if (closed) return;
    if (!client.connected) return; // the connection's return schedules one
    if ((client.stream?.writableLength ?? 0) > BACKLOG_BYTES) return schedule(everyMs);
    lastRound = now();
    try {
      if (gridDirty) gridState();
      for (const h of households) if (dirty.has(h.id)) householdState(h);
      if (todayDirty) for (const h of households) householdToday(h);
      if (settled !== null && settled >= newestResult) {
        intervalResult(settled);
        newestResult = settled;
      }
    } catch (err) {
      log.error({ err }, 'mqtt: state out round failed; retried next round');
      return schedule(everyMs);
    }
    gridDirty = todayDirty = false;
    dirty.clear();
    settled = null;
  };
  const schedule = (minWait = 0) => {
    if (timer || closed) return;
    timer = setTimeout(round, Math.max(minWait, lastRound + everyMs - now()));
    timer.unref();
  };

  const onFrame = (f: HubFrame) => {
    gridDirty = true;
    for (const e of f.events) {
      if (e.type === 'reading') {
        const h = ownerOf.get(e.meterId);
        if (h !== undefined) dirty.add(h);
      } else if (e.type === 'interval-state' && stateRank(e.state) >= stateRank('settled')) {
        // Statements and credits are written with the move to settled; later states change neither, but the result
        // shows the state.
        todayDirty = true;
        const start = parseIntervalStart(e.interval, config.market.intervalMinutes, 'interval');
        if (start >= newestResult && (settled === null || start >= settled)) settled = start;
      }
    }
    // A new interval may be a new day: the day's figures start again at zero.
    if (f.current.interval !== currentInterval) {
      currentInterval = f.current.interval;
      todayDirty = true;
    }
    schedule();
  };
  const unsubscribe = hub.subscribe(onFrame);

  // Back after a drop: the newest state of everything (nothing was queued meanwhile); a broker that
  // lost our session may have lost its retained messages too, so discovery goes again.
  const onConnect = (packet: { sessionPresent?: boolean }) => {
    last.clear();
    for (const h of households) dirty.add(h.id);
    gridDirty = todayDirty = true;
    settled = lastSettled()?.start ?? null;
    if (!packet.sessionPresent)
      void publishDiscovery().catch((err: Error) => log.warn({ err: err.message }, 'mqtt: discovery not republished'));
    schedule();
  };
  client.on('connect', onConnect);

  round();
  log.info(
    { households: households.length, discovery: configs.length },
    `mqtt: publishing ${households.length} household(s) and the microgrid${m.discovery ? `, ${configs.length} Home Assistant sensors` : ''}`,
  );
  return {
    households,
    cleared: stale.length,
    close: () => {
      closed = true;
      unsubscribe();
      client.removeListener('connect', onConnect);
      if (timer) clearTimeout(timer);
    },
  };
}
