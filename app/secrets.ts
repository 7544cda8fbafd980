// Moved to core/ so the dashboard can resolve its tokens without importing app/.
export { resolveSecret } from '../core/config/secrets.js';
