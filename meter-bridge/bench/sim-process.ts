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
process.on('SIGTERM', () => {
  void sims.close().then(() => process.exit(0));
});
