import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { healthRoutes } from './health.js';
import { stateRoutes } from './state.js';
import { streamRoutes } from './stream.js';
import { participantRoutes } from './participants.js';
import { intervalRoutes } from './intervals.js';
import { orderRoutes } from './orders.js';
import { ledgerListRoutes } from './ledger-lists.js';
import { energyRoutes } from './energy.js';
import { auditRoutes } from './audit.js';
import { auditVerifyRoutes } from './audit-verify.js';
import { readingRoutes } from './readings.js';
import { metricsRoutes } from './metrics.js';
import { todayRoutes } from './today.js';
import { meterDataRoutes } from './meter-data.js';

/**
 * Every route plugin of the HTTP app, one per file in this folder. Each area
 * adds its own file and one line here.
 */
export const ROUTES: readonly ((app: FastifyInstance, deps: DashboardDeps) => Promise<void>)[] = [
  healthRoutes,
  stateRoutes,
  streamRoutes,
  participantRoutes,
  intervalRoutes,
  orderRoutes,
  ledgerListRoutes,
  energyRoutes,
  auditRoutes,
  auditVerifyRoutes,
  readingRoutes,
  metricsRoutes,
  todayRoutes,
  meterDataRoutes,
];
