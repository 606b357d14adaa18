// Names the daemon picks for a service created without one: Docker's adjective_surname, from the engine's generator
// (moby's namesgenerator.GetRandomName, which dockerd's cluster code calls too).
import { randomContainerName } from '../../engine/names';

export function randomServiceName(taken: (name: string) => boolean = () => false): string {
  return randomContainerName(taken);
}
