// `berth secret create|ls|inspect|rm` (the verbs shared with `config` live in ../swarm/file-objects).
import { Command } from 'commander';
import type { Cli } from '../command';
import { fileObjectCommand } from '../swarm/file-objects';

export function secretCommand(cli: Cli): Command {
  return fileObjectCommand(cli, 'secret');
}
