import type { Command } from 'commander';
export function registerRenderCommand(_program: Command): void {}
