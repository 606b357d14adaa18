// The Compose project model: what the loader produces and everything else reads. It is the canonical
// form `docker compose config` prints (Compose v2's): snake_case keys as in the Compose Specification,
// every short syntax expanded (ports, volumes, depends_on, env lists, networks as a map), relative
// paths made absolute, interpolation done. Keeping the model and the printed form one and the same means
// `config` is a serialisation of it, and the config hash is a hash of what the user can read.

/** `KEY: value`; null keeps a key whose value comes from the shell at run time (`environment: [FOO]`). */
export type Mapping = Record<string, string | null>;

export interface Project {
  /** Normalised as Compose does: lowercase, [a-z0-9_-], starting with a letter or digit. */
  name: string;
  /** The project directory: the first file's directory, or --project-directory. */
  working_dir: string;
  /** The files read, absolute, in order (com.docker.compose.project.config_files). */
  config_files: string[];
  services: Record<string, Service>;
  /** Services defined but left out by profiles (kept so `--profile` and `run` can reach them). */
  disabled_services: Record<string, Service>;
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  secrets: Record<string, FileObject>;
  configs: Record<string, FileObject>;
  /** x-* top-level extensions, kept for `config`. */
  extensions?: Record<string, unknown>;
}

export interface Service {
  name: string;
  profiles?: string[];
  image?: string;
  build?: Build;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Mapping;
  /** env_file entries already read into `environment`; kept for `config` and the hash. */
  env_file?: { path: string; required: boolean; format?: string }[];
  ports?: Port[];
  expose?: string[];
  volumes?: ServiceVolume[];
  tmpfs?: string[];
  networks?: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  depends_on?: Record<string, DependsOn>;
  healthcheck?: Healthcheck;
  restart?: string;
  user?: string;
  working_dir?: string;
  hostname?: string;
  domainname?: string;
  container_name?: string;
  labels?: Record<string, string>;
  cap_add?: string[];
  cap_drop?: string[];
  privileged?: boolean;
  read_only?: boolean;
  init?: boolean;
  tty?: boolean;
  stdin_open?: boolean;
  ulimits?: Record<string, { soft: number; hard: number }>;
  stop_signal?: string;
  /** Go duration string as written (`10s`, `1m30s`). */
  stop_grace_period?: string;
  extra_hosts?: string[];
  dns?: string[];
  dns_search?: string[];
  dns_opt?: string[];
  logging?: { driver?: string; options?: Record<string, string> };
  deploy?: Deploy;
  /** `scale:`; `deploy.replicas` is the other spelling. */
  scale?: number;
  secrets?: ServiceFileRef[];
  configs?: ServiceFileRef[];
  links?: string[];
  external_links?: string[];
  sysctls?: Record<string, string>;
  security_opt?: string[];
  shm_size?: string;
  pid?: string;
  ipc?: string;
  mem_limit?: string;
  cpus?: number;
  pull_policy?: 'always' | 'never' | 'missing' | 'build' | 'if_not_present';
  platform?: string;
  devices?: string[];
  group_add?: string[];
  volumes_from?: string[];
  /** Any other key the schema allows, kept for `config`. */
  [extra: string]: unknown;
}

export interface Build {
  /** Absolute path (or a URL, kept as written). */
  context: string;
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: Mapping;
  target?: string;
  labels?: Record<string, string>;
  network?: string;
  no_cache?: boolean;
  pull?: boolean;
  tags?: string[];
  extra_hosts?: string[];
  shm_size?: string;
  cache_from?: string[];
}

export interface Port {
  mode: 'ingress' | 'host';
  /** Container port. */
  target: number;
  /** Host port or range as written ("8080", "8080-8081"); absent for an ephemeral host port. */
  published?: string;
  host_ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  name?: string;
  app_protocol?: string;
}

export interface ServiceVolume {
  type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'image';
  /** Project-level volume key (type volume), absolute host path (bind), absent (anonymous, tmpfs). */
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: 'z' | 'Z' };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number; mode?: number };
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  priority?: number;
  mac_address?: string;
}

export interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  required: boolean;
  restart?: boolean;
}

export interface Healthcheck {
  /** ["NONE"], ["CMD", ...] or ["CMD-SHELL", "..."]. */
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

export interface Deploy {
  replicas?: number;
  resources?: {
    limits?: { cpus?: string; memory?: string; pids?: number };
    reservations?: { cpus?: string; memory?: string };
  };
  restart_policy?: { condition?: 'none' | 'on-failure' | 'any'; max_attempts?: number; delay?: string };
  labels?: Record<string, string>;
  [extra: string]: unknown;
}

/** A service's use of a secret or config: mounted at target (secrets: /run/secrets/<name>; configs: /<name>). */
export interface ServiceFileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface Network {
  /** The engine's name: `<project>_<key>` unless `name:` or external. */
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  ipam?: { driver?: string; config?: { subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }[]; options?: Record<string, string> };
  external?: boolean;
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  labels?: Record<string, string>;
}

export interface Volume {
  /** The engine's name: `<project>_<key>` unless `name:` or external. */
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  external?: boolean;
  labels?: Record<string, string>;
}

/** A top-level secret or config: file-based (absolute path), from an environment variable, or inline content. */
export interface FileObject {
  name: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
}

/** Labels Compose v2 sets; the keys are a wire format other tools (and Compose itself) read back. */
export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  containerNumber: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  image: 'com.docker.compose.image',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  environmentFile: 'com.docker.compose.project.environment_file',
  dependsOn: 'com.docker.compose.depends_on',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  replace: 'com.docker.compose.replace',
} as const;

/** The Compose version Berth's plugin reports (in `version` and the version label). */
export const COMPOSE_VERSION = '2.39.0-berth';
