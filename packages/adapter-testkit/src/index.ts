export { type WaitForOptions, WaitForTimeoutError, waitFor } from './wait-for.ts';
