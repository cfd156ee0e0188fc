export { encodeRecord } from './mesos/recordio.ts';
