// Public surface of devcluster/mesos; re-exported from the package root.
export {
  type MesosCredential,
  type MesosFaults,
  type MesosMaster,
  type MesosMasterOptions,
  startMesosMaster,
} from './master.ts';
export { encodeRecord } from './recordio.ts';
