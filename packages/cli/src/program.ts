import { Command, InvalidArgumentError, Option } from "commander";
import { INIT_PROVIDERS } from "./commands/init-template.js";
import { parseFail, parseLatency, parseRate, parseSeed, requireEmulateForFaults } from "./emulate-faults.js";
import { exitCodeHelp } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import type { Session } from "./session.js";
import { version } from "./version.js";

// The command bodies (and through them core, the providers, the SDKs and the emulator) are imported only when
// a command runs, so `--help`, `--version` and a usage error load commander and this file alone.
const runtime = () => import("./runtime.js");
const apply = async () => (await runtime()).apply;
const misc = async () => (await runtime()).misc;
const read = async () => (await runtime()).read;
const stateCommands = async () => (await runtime()).stateCommands;

// Kept here rather than imported, so building the program loads no command module; the types tie each to
// the value its command module checks.
const GRAPH_FORMATS = ["mermaid", "dot"] as const satisfies typeof import("./commands/read.js").GRAPH_FORMATS;
const DEFAULT_CONFIG = "k3sinfra.yaml" satisfies typeof import("./session.js").DEFAULT_CONFIG;

export { version } from "./version.js";

const EPILOG = `
Examples:
  k3sinfra init --provider aws --hostname rancher.example.com
  k3sinfra plan
  k3sinfra up                     # shows the plan and asks before changing anything
  k3sinfra outputs --show-secrets
  k3sinfra up --emulate --yes     # try it against an emulated AWS, no account needed
  k3sinfra destroy

${exitCodeHelp}

Environment:
  NO_COLOR=1          no colours (as --no-color)
  K3SINFRA_DEBUG=1    print stack traces of unexpected errors
  Cloud credentials come from each cloud's usual variables and files (AWS_PROFILE, ...).

Docs: docs/cli.md`;

// InvalidArgumentError makes commander report a usage error (exit 2) naming the option and the value.
const positiveNumber = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("It must be a positive number.");
  return n;
};
const boolean = (raw: string): boolean => {
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw new InvalidArgumentError("It must be true or false.");
};
const positiveInt = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("It must be a positive integer.");
  return n;
};

const STRICT_HELP =
  "refuse risky choices (0.0.0.0/0 in adminCidrs, SSH open to it, deletion protection off, a datastore version near its end of support) instead of warning (exit 2)";

/** Runs a command body with the Session built from the parsed flags, and handles its result or error. */
export type Runner = (command: Command, run: (session: Session) => Promise<number>) => Promise<void>;

/**
 * The `k3sinfra` command tree. Commands only parse flags and hand a Session to the functions in commands/;
 * the heavy modules (providers, SDKs, the emulator) are imported lazily from there.
 */
export const buildProgram = (io: CliIo, runner: Runner): Command => {
  const program = new Command("k3sinfra")
    .description(
      "Rancher's HA K3s infrastructure (VMs, MySQL, load balancer, DNS) on AWS, GCP, Azure or your own provider.",
    )
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .option("-c, --config <path>", `cluster config file (default: ./${DEFAULT_CONFIG})`)
    .option("--json", "machine-readable result on stdout; progress as JSON lines on stderr")
    .option("-y, --yes", "do not ask for confirmation (required for up/destroy when stdin is not a terminal)")
    .option("--emulate", "run against a local emulated cloud (AWS, Cloudflare): nothing real is created")
    .option("--time-scale <factor>", "with --emulate: cloud durations × factor", positiveNumber, 0.02)
    .option("--emulate-seed <n>", "with --emulate: seed of injected faults and generated ids", parseSeed)
    .option("--emulate-throttle <rate>", "with --emulate: throttle this share of calls (0-1)", parseRate)
    .option("--emulate-5xx <rate>", "with --emulate: answer this share of calls 500/503 (0-1)", parseRate)
    .option("--emulate-latency <ms[:rate]>", "with --emulate: delay calls (all, or a share)", parseLatency)
    .option(
      "--emulate-fail <service:Operation[=kind]>",
      "with --emulate: every call of it fails (default error500; repeatable)",
      parseFail,
    )
    .hook("preAction", requireEmulateForFaults)
    .option("--no-color", "no colours (also: NO_COLOR)")
    .addHelpText("after", EPILOG)
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });

  program
    .command("init")
    .description("write a commented starter k3sinfra.yaml (never overwrites)")
    .addOption(
      new Option("-p, --provider <name>", "cloud provider").choices(INIT_PROVIDERS).makeOptionMandatory(),
    )
    .option("--name <name>", "cluster name", "rancher")
    .option("--region <region>", "region (default: a common one for the provider)")
    .option("--hostname <fqdn>", "Rancher hostname; dns.zone is its parent domain", "rancher.example.com")
    .action((opts, cmd: Command) => runner(cmd, async (s) => (await misc()).initCommand(s, opts)));

  program
    .command("plan")
    .description("show what up would create, update, replace or delete, and why (reads the cloud first)")
    .option(
      "--refresh <bool>",
      "read every resource from the cloud first, so drift shows (default true)",
      boolean,
    )
    .option(
      "--detailed-exitcode",
      "exit 0 when there is nothing to change, 6 when there are changes (for CI)",
    )
    .option("--destroy", "show what destroy would delete, from the state alone (no cloud call)")
    .option("--strict", STRICT_HELP)
    .action((opts, cmd: Command) => runner(cmd, async (s) => (await apply()).planCommand(s, opts)));

  program
    .command("up")
    .description("create or update the cluster's infrastructure (shows the plan and asks first)")
    .option("--parallelism <n>", "cloud API calls in flight at once (default 4)", positiveInt)
    .option(
      "--refresh <bool>",
      "read every resource from the cloud first and repair drift (default true)",
      boolean,
    )
    .option("--strict", STRICT_HELP)
    .option("--no-wait", "do not wait for every server to be healthy behind the load balancer")
    .action((opts, cmd: Command) => runner(cmd, async (s) => (await apply()).upCommand(s, opts)));

  program
    .command("status")
    .description("read every resource and report drift (read-only)")
    .action((_opts, cmd: Command) => runner(cmd, async (s) => (await read()).statusCommand(s)));

  program
    .command("outputs")
    .description("Rancher URL, nodes, load balancer, K3s server configs and Rancher install commands")
    .option("--show-secrets", "print the datastore password, K3s token and Rancher bootstrap password")
    .action((opts, cmd: Command) => runner(cmd, async (s) => (await read()).outputsCommand(s, opts)));

  program
    .command("kubeconfig")
    .description("fetch the kubeconfig the first server stored, pointed at an address you can reach (0600)")
    .option(
      "-o, --output <path>",
      "where to write it (default: .k3sinfra/<name>.kubeconfig beside the config)",
    )
    .action((opts, cmd: Command) => runner(cmd, async (s) => (await read()).kubeconfigCommand(s, opts)));

  program
    .command("verify")
    .description("check from this machine: DNS → load balancer, ports 80/443, certificate, Rancher's /ping")
    .option("--timeout <seconds>", "per-check timeout (default 10)", positiveInt)
    .action((opts, cmd: Command) => runner(cmd, async (s) => (await read()).verifyCommand(s, opts)));

  program
    .command("destroy")
    .description("delete every resource of the cluster, then sweep leftovers by ownership tags (asks first)")
    .option("--allow-protected", "also delete a datastore that has deletion protection on (its data is lost)")
    .option("--parallelism <n>", "cloud API calls in flight at once (default 4)", positiveInt)
    .action((opts, cmd: Command) => runner(cmd, async (s) => (await apply()).destroyCommand(s, opts)));

  program
    .command("force-unlock")
    .description("release the state lock left by a crashed run (asks first)")
    .argument("<lock-id>", "the lock id printed by the command that found the lock, or by status")
    .action((lockId: string, _opts, cmd: Command) =>
      runner(cmd, async (s) => (await misc()).forceUnlockCommand(s, lockId)),
    );

  const state = program
    .command("state")
    .description("move the state between the local file and a shared backend, print it, list clusters");
  state
    .command("migrate")
    .description("move the state to --to (local, or the config's state.backend), verified, under both locks")
    .requiredOption("--to <backend>", "local, or the backend the config's state.backend names (e.g. s3)")
    .action((opts, cmd: Command) =>
      runner(cmd, async (s) => (await stateCommands()).stateMigrateCommand(s, opts)),
    );
  state
    .command("pull")
    .description("print the stored state as JSON, secrets masked (needs no key)")
    .action((_opts, cmd: Command) => runner(cmd, async (s) => (await stateCommands()).statePullCommand(s)));
  state
    .command("list")
    .description("list the clusters whose state is beside this one (same bucket and prefix, or folder)")
    .action((_opts, cmd: Command) => runner(cmd, async (s) => (await stateCommands()).stateListCommand(s)));

  program
    .command("graph")
    .description("print the resource dependency graph")
    .addOption(new Option("--format <format>", "output format").choices(GRAPH_FORMATS).default("mermaid"))
    .action((opts, cmd: Command) => runner(cmd, async (s) => (await read()).graphCommand(s, opts)));

  program
    .command("schema")
    .description("print the config file's JSON Schema (for editors and CI)")
    .action((_opts, cmd: Command) => runner(cmd, async (s) => (await misc()).schemaCommand(s)));

  // After a usage error, say where the usage is (commander prints this line after its own message).
  program.showHelpAfterError("Run `k3sinfra --help` for the commands and global options.");
  for (const c of program.commands) {
    c.showHelpAfterError(`Run \`k3sinfra ${c.name()} --help\` for its options.`);
  }
  return program;
};
