// Public surface of core/cluster; re-exported from the package root.
export {
  BERTH_ERROR_CODES,
  BerthError,
  type BerthErrorCode,
  type BerthErrorIssue,
  type BerthErrorOptions,
  isBerthError,
  toBerthError,
} from './errors.ts';
