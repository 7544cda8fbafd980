import { ScaledClock } from '../../core/clock.js';
import { startSimulators } from '../simulators/household.js';

/**
 * Child process of the bridge benchmark: N simulated households on loopback.
 * Prints one JSON line { ports: [...] } when ready; exits on SIGTERM.
 */
const n = Number(process.argv[2] ?? '500');
const first = Number(process.argv[3] ?? '0');
const sims = await startSimulators({ clock: new ScaledClock(1), households: n, firstIndex: first });
process.stdout.write(`${JSON.stringify({ ports: sims.households.map((h) => h.port) })}\n`);
// Stall probe: how late a 10 ms timer fires tells whether this process got the
// CPU (or was in a long GC); reported when over 100 ms, so the benchmark can
// tell a stalled simulator from a slow bridge.
let expected = performance.now() + 10;
setInterval(() => {
  const now = performance.now();
  const late = now - expected;
  if (late > 100) process.stdout.write(`${JSON.stringify({ stallMs: Math.round(late), at: Date.now() })}\n`);
  expected = now + 10;
}, 10).unref();
process.on('SIGTERM', () => {
  sims.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
