// Public surface of core/fairness; re-exported from the package root.

export {
  formatAmount,
  formatQuotaViolation,
  parseTenantQuotas,
  type QuotaAmounts,
  type QuotaViolation,
  quotaViolation,
  requiredHeadroom,
  resourceAmount,
  type TenantQuota,
  type TenantQuotaInput,
} from './quota.ts';
export {
  DRFSorter,
  type DRFSorterOptions,
  FifoSorter,
  type Sorter,
  type SorterClient,
  type SorterClientOptions,
} from './sorter.ts';
