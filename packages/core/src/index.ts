export {
  BERTH_ERROR_CODES,
  BerthError,
  type BerthErrorCode,
  type BerthErrorIssue,
  type BerthErrorOptions,
  isBerthError,
  toBerthError,
} from './cluster/errors.ts';
