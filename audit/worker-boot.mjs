// Entry of an audit worker thread (piscina's filename): TypeScript runs through tsx here too (the mgx bin registers it
// only in the main thread), with the package's tsconfig as the bin does.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { default: auditRun } = await import('./worker.ts');
export default auditRun;
