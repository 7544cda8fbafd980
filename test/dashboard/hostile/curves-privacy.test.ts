import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeFixture, auth, TOKENS, fixtureConfig, T0, MIN15 } from '../fixture.js';
import { insertForwardOrder } from '../../../ledger/orders.js';
import { upsertParticipant } from '../../../ledger/participants.js';

// Issue 13, item 5: the public curves never show one participant's order.
// Before gate closure households and the public see no book at all; after it,
// price levels are merged until each stands for several participants.
const base = fixtureConfig({ server: { rateLimit: { writesPerMinute: 100000 } } });
const extra = ['h04', 'h05'].map((id) => ({
  id,
  name: id,
  zone: 'north',
  meters: [{ id: `${id}-grid`, role: 'grid' as const }],
  policy: {},
}));
const config = { ...base, participants: [...base.participants, ...extra] } as typeof base;
const f = await makeFixture({ config });
after(() => f.app.close());
for (const p of extra) upsertParticipant(f.ledger, p as (typeof config.participants)[number], T0);

const S = T0 + 4 * MIN15;
const url = `/api/intervals/${new Date(S).toISOString()}/curves`;
let n = 0;
const bid = (participantId: string, energyWh: number, price: string) =>
  insertForwardOrder(f.ledger, {
    id: `ord_c${n++}`,
    intervalStart: S,
    participantId,
    side: 'bid',
    energyWh,
    price,
    zone: 'north',
    partners: null,
    greenOnly: false,
    createdAt: f.clock.now(),
  });
const curves = async (headers: Record<string, string> = {}) =>
  (await f.app.inject({ url, headers })).json() as {
    bids: { price: string; cumulativeWh: number }[];
    offers: unknown[];
  };

test('before gate closure: the public and households see no book; operator and auditor see it whole', async () => {
  bid('h02', 700, '0.2100');
  for (const who of [{}, auth(TOKENS.h01), auth(TOKENS.h02)]) {
    const c = await curves(who);
    assert.deepEqual([c.bids, c.offers], [[], []], JSON.stringify(who));
  }
  assert.deepEqual((await curves(auth(TOKENS.operator))).bids, [{ price: '0.2100', cumulativeWh: 700 }]);
  assert.deepEqual((await curves(auth(TOKENS.auditor))).bids, [{ price: '0.2100', cumulativeWh: 700 }]);
});

test('after gate closure: each public level stands for several participants, or the side is not shown', async () => {
  await f.clock.advanceTo(S - 300_000);
  // One participant only: nothing to show without showing it.
  assert.deepEqual((await curves()).bids, []);
  bid('h01', 100, '0.2500');
  bid('h03', 200, '0.2000');
  // Three participants at three prices: one level for all three (a member subtracting itself still sees two).
  assert.deepEqual((await curves()).bids, [{ price: '0.2000', cumulativeWh: 1000 }]);
  bid('h04', 50, '0.1900');
  bid('h05', 20, '0.1500');
  const pub = (await curves()).bids;
  const total = 700 + 100 + 200 + 50 + 20;
  assert.equal(pub.at(-1)?.cumulativeWh, total, 'the volume is all there');
  // Levels: [0.25 h01, 0.21 h02, 0.20 h03] merged, then [0.19 h04, 0.15 h05] too few alone → merged into it.
  assert.deepEqual(pub, [{ price: '0.1500', cumulativeWh: total }]);
  assert.deepEqual(await curves(auth(TOKENS.h02)).then((c) => c.bids), pub, 'a household sees the public aggregate');
  assert.equal((await curves(auth(TOKENS.operator))).bids.length, 5);
});
