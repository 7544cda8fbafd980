import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from '../deps.js';
import { healthRoutes } from './health.js';

/**
 * Every route plugin of the HTTP app, one per file in this folder. Each area
 * adds its own file and one line here.
 */
export const ROUTES: readonly ((app: FastifyInstance, deps: DashboardDeps) => Promise<void>)[] = [healthRoutes];
