// `berth config create|ls|inspect|rm` (the verbs shared with `secret` live in ../swarm/file-objects).
import { Command } from 'commander';
import type { Cli } from '../command';
import { fileObjectCommand } from '../swarm/file-objects';

export function configCommand(cli: Cli): Command {
  return fileObjectCommand(cli, 'config');
}
