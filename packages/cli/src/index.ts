export { createProgram, type ProgramIO, runCli } from './program.ts';
