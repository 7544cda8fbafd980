import { microgridTopic, type TopicBase } from '../../core/mqtt-topics.js';

/**
 * The topics state out publishes, all retained (a newcomer gets the last value
 * at once), all under `<prefix>/<microgrid>/`:
 *
 *   grid/state                  the balance and the current interval, at most once a second
 *   grid/interval               the latest settled interval's result
 *   households/<id>/state       the household's meters (power, counters), at most once a second
 *   households/<id>/today       the day so far: traded, earned, paid, credits
 *
 * One JSON document per topic (not one topic per number): the numbers in a
 * message belong to the same live frame (its `seq`, the one /api/state
 * carries), and Home Assistant reads each sensor out of it with a
 * value_template.
 */
export const gridStateTopic = (b: TopicBase): string => `${microgridTopic(b)}/grid/state`;
export const gridIntervalTopic = (b: TopicBase): string => `${microgridTopic(b)}/grid/interval`;
export const householdTopic = (b: TopicBase, id: string): string => `${microgridTopic(b)}/households/${id}`;
export const householdStateTopic = (b: TopicBase, id: string): string => `${householdTopic(b, id)}/state`;
export const householdTodayTopic = (b: TopicBase, id: string): string => `${householdTopic(b, id)}/today`;
/** Every household topic (state out reads back what is retained there, to clear the households no longer listed). */
export const householdsFilter = (b: TopicBase): string => `${microgridTopic(b)}/households/+/+`;

/** The household id of one of the household topics, or null. */
export function householdOfTopic(b: TopicBase, topic: string): string | null {
  const head = `${microgridTopic(b)}/households/`;
  if (!topic.startsWith(head)) return null;
  const parts = topic.slice(head.length).split('/');
  return parts.length === 2 && parts[0] ? parts[0] : null;
}

/**
 * A Home Assistant discovery topic level (node_id, object_id) allows only
 * [a-zA-Z0-9_-]; ids also allow "." and ":". Letters, digits and "-" stay,
 * every other character becomes "_x" and two hex digits per UTF-8 byte ("_" too), so two
 * different ids never share a topic, and the output never holds "__", which
 * joins the parts of a node or object id unambiguously.
 */
export function haId(s: string): string {
  return s.replace(/[^A-Za-z0-9-]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `_x${b.toString(16).padStart(2, '0')}`).join(''),
  );
}

/** The discovery node of one microgrid: `<prefix>__<microgrid>` (all of its configs are below it). */
export const haNode = (b: TopicBase): string => `${haId(b.prefix)}__${haId(b.microgrid)}`;
