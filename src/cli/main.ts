import { Command } from 'commander';
import { registerRenderCommand } from './render-command.js';
import { registerServiceCommands } from './service-commands.js';

const program = new Command('replay-rasterizer')
  .description('Turns a moment of an rrweb session recording into an animated GIF')
  .showHelpAfterError();
registerRenderCommand(program);
registerServiceCommands(program);
await program.parseAsync(process.argv);
