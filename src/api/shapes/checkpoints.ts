// Declared shape of the checkpoint create body (moby's checkpoint.CreateOptions).
import { bool, str, struct } from './decode';

/** POST /containers/{id}/checkpoints. */
export const checkpointCreate = struct('CreateOptions', { CheckpointID: str, CheckpointDir: str, Exit: bool }, 'checkpoint.CreateOptions');
