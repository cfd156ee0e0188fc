import { readFileSync } from 'node:fs';

// package.json sits one level above both src/ (tests, dev) and dist/ (installed builds).
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const CLI_VERSION: string = pkg.version;
