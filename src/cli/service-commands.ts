import type { Command } from 'commander';
/** `worker`, `server` and `migrate`: the running service (see src/queue, src/http, src/db). */
export function registerServiceCommands(_program: Command): void {}
