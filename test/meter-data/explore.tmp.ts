import { at, INTERVAL, normalMinute, startHouseholds, T0 } from './household.js';
import { validateMeterSeries } from '../../settlement/meter-data/index.js';
const h = await startHouseholds({ h1RatedPowerW: 5000 });
const scen = process.argv[2];
try {
  await h.run(0, 20, async (k) => {
    if (scen === 'glitch') { if (k === 7) await h.sunspec.send('glitch 1'); if (k === 9) await h.sunspec.send('unglitch'); }
    if (scen === 'sf' && k === 7) await h.sunspec.send('sf 1');
    if (scen === 'reset' && k === 7) await h.sunspec.send('reset');
    if (scen === 'reset' && k === 12) await h.sunspec.send('add imp=30');
    if (scen === 'offline') { if (k === 3) await h.sunspec.send('offline'); if (k === 18) await h.sunspec.send('online'); }
    await normalMinute(h, k);
  });
  for (const m of ['h1-grid', 'h1-pv', 'h2-grid']) {
    const rs = h.sc.readings(m, T0, at(21));
    const out = validateMeterSeries({ meterId: m, role: m.endsWith('pv') ? 'pv' : 'grid', ratedPowerW: 5000, intervalMs: INTERVAL, intervals: [0, 1, 2, 3].map((i) => T0 + i * INTERVAL), readings: rs });
    for (const e of out) console.log(m, (e.intervalStart - T0) / 60000, e.importWh, e.exportWh, e.status, e.method, JSON.stringify(e.reasons));
  }
} finally { await h.close(); }
