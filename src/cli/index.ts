export type { CliIo, CliStream } from './cli-io.js';
export type { RunCommandOptions } from './run-command.js';
export { processIo } from './cli-io.js';
export { formatJournalSummary } from './format-journal-summary.js';
export { createProgram, EXIT_CODES, main } from './main.js';
export { runCommand } from './run-command.js';
export { UsageError } from './usage-error.js';
