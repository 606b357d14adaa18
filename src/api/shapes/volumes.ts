// Declared shape of the volume create body (moby's volume.CreateOptions).
import { anyJson, map, str, struct } from './decode';

/** POST /volumes/create. */
export const volumeCreate = struct('CreateOptions', {
  Name: str, Driver: str, DriverOpts: map(str), Labels: map(str), ClusterVolumeSpec: anyJson,
}, 'volume.CreateOptions');
