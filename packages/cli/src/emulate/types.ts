import type { Emulator, EmulatorOptions } from "@k3sinfra/emulator";

/** What a cloud module is told about the config when the emulator is started. */
export interface FixtureInput {
  /** The config's DNS zone (lower case, no trailing dot), when this cloud serves the config's DNS. */
  readonly zone: string | undefined;
  /** The Rancher hostname (lower case). */
  readonly hostname: string | undefined;
  /** `loadBalancer.certificate` as the user wrote it. */
  readonly certificate: string | undefined;
}

/**
 * What a module points its provider at: the running emulator, or a stand-in with addresses that never resolve
 * when the command reads no cloud (emulate.ts).
 */
export type EmulatorAddress = Pick<Emulator, "endpoints" | "credentials" | "caPem">;

/** Emulator fixtures, keyed by the cloud they belong to. */
export type Fixtures = NonNullable<EmulatorOptions["fixtures"]>;

/**
 * One emulated cloud as the CLI's `--emulate` sees it: which config names it serves, what must never leak
 * in from a real account, which fixtures the config implies, and how its provider is pointed at the emulator.
 * Adding a cloud to `--emulate`: one module like `aws.ts`, listed once in `index.ts`.
 */
export interface EmulatedCloudModule {
  /** The emulator's name for the cloud (`EmulatorOptions.clouds`). */
  readonly cloud: NonNullable<EmulatorOptions["clouds"]>[number];
  /** Config provider names it serves: the provider itself and its DNS service's alias (`route53`). */
  readonly providers: readonly string[];
  /** Whether it can host the cluster (`provider:`), not only its DNS. */
  readonly compute: boolean;
  /** Whether it can serve `dns.provider`. */
  readonly dns: boolean;
  /** Environment variables through which a real account could leak into an emulated run; removed. */
  readonly realVars: readonly string[];
  /** Keys of `options.<provider>` naming real resources, endpoints or credentials; left out of the run. */
  readonly realOptions: readonly string[];
  /** Pre-existing user resources the config names (its DNS zone, its certificate). */
  fixtures(input: FixtureInput): Partial<Fixtures>;
  /** Variables pointing the provider's clients at the emulator, with its fake credentials. */
  env(emulator: EmulatorAddress): Record<string, string>;
  /**
   * Where the readiness check reaches an emulated datastore with this endpoint (the emulator's local proxy to a
   * real MariaDB), or undefined when it is not this cloud's.
   */
  datastoreAddress?(
    emulator: Emulator,
    endpoint: { host: string; port: number },
  ): { host: string; port: number } | undefined;
}
