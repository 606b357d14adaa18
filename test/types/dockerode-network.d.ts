// dockerode passes options to GET /networks/{id} (scope, verbose), which @types/dockerode does not declare.
import 'dockerode';

declare module 'dockerode' {
  interface Network {
    inspect(options: { scope?: string; verbose?: boolean }): Promise<NetworkInspectInfo>;
  }
}
