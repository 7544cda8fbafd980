// Entry of an audit worker thread: TypeScript runs through tsx here too (the mgx bin registers it only in the main thread).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
