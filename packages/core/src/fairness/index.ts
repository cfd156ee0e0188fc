// Public surface of core/fairness; re-exported from the package root.
export {
  DRFSorter,
  type DRFSorterOptions,
  FifoSorter,
  type Sorter,
  type SorterClient,
  type SorterClientOptions,
} from './sorter.ts';
