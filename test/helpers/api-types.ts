// The parts of the Docker Engine API's answers that the integration tests read (a test casts JSON.parse's result to these).

export interface NetworkInspect {
  Id: string;
  Name: string;
  Driver: string;
  Options?: Record<string, string>;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] };
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests?: string[];
  Parent?: string;
  Created?: string;
  Size?: number;
  Config: ContainerConfig;
  RootFS: { Type: string; Layers: string[] };
}

export interface ContainerConfig {
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  OnBuild?: string[] | null;
  Shell?: string[] | null;
}
