// Public surface of devcluster/mesos; re-exported from the package root.
export { encodeRecord } from './recordio.ts';
