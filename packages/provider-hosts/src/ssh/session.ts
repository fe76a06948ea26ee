import { readFile } from "node:fs/promises";
import { AuthFailedError, ProviderError } from "@k3sinfra/core";
import type { Client, ConnectConfig } from "ssh2";
import { checkHostKey, type HostKeyPolicy, type HostKeyVerdict } from "./host-key.js";

/** One host reached over SSH. */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Where its host key is trusted from. */
  readonly hostKey: HostKeyPolicy;
  /** What the config calls it, for messages (`options.hosts.nodes[0]`). */
  readonly path: string;
}

/** How we log in: a private key file, the SSH agent, or both (the key file first). */
export interface SshAuth {
  readonly privateKeyFile?: string | undefined;
  readonly agentSocket?: string | undefined;
  /** Connect timeout per attempt. */
  readonly readyTimeoutMs?: number | undefined;
}

/** What a remote command returned. */
export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** POSIX single-quoting: the value as one word for `sh`. */
export const shq = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** A host key that stops the run: nothing is sent to a host we cannot identify. */
export class HostKeyError extends ProviderError {
  constructor(target: SshTarget, verdict: Extract<HostKeyVerdict, { ok: false }>) {
    const where = `${target.user}@${target.host}:${target.port} (${target.path})`;
    const how = `check it on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then set ${target.path}.hostKey to it or add the key to the known_hosts file`;
    super(
      verdict.reason === "changed"
        ? `SSH host key of ${where} CHANGED: it presented ${verdict.fingerprint}, which is not the key it is trusted with; stopping. If the host was reinstalled, ${how}`
        : `SSH host key of ${where} is unknown: it presented ${verdict.fingerprint}; ${how}`,
      { retryable: false },
    );
  }
}

/**
 * An open SSH connection that runs commands as root: directly when the user is root, else through
 * `sudo -n` (passwordless sudo is a requirement of the hosts). Secrets only ever travel on a command's
 * stdin, never in its arguments, which other users of the host can see in the process list.
 */
export class SshSession {
  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
  ) {}

  /** Opens a session after the host key is verified (ssh2's `hostVerifier`, before authentication). */
  static async open(target: SshTarget, auth: SshAuth, signal?: AbortSignal): Promise<SshSession> {
    // ssh2 (pure JavaScript) rather than the system `ssh`: host keys are checked in-process against the
    // config's fingerprint or known_hosts, with the presented fingerprint in the error, and no OpenSSH client
    // or ~/.ssh/config on the operator's machine changes the behaviour. Loaded on first use.
    const mod = (await import("ssh2")) as unknown as {
      Client?: typeof Client;
      default?: { Client: typeof Client };
    };
    const ClientClass = mod.Client ?? mod.default?.Client;
    if (!ClientClass) throw new ProviderError("the ssh2 package has no Client export");
    const privateKey = auth.privateKeyFile ? await readFile(auth.privateKeyFile) : undefined;
    const client = new ClientClass();
    let refused: Extract<HostKeyVerdict, { ok: false }> | undefined;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: auth.readyTimeoutMs ?? 20_000,
      ...(privateKey ? { privateKey } : {}),
      ...(auth.agentSocket ? { agent: auth.agentSocket } : {}),
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        checkHostKey(key, target.hostKey, target.host, target.port).then(
          (verdict) => {
            if (!verdict.ok) refused = verdict;
            verify(verdict.ok);
          },
          () => verify(false),
        );
      },
    };
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        client.end();
        reject(signal?.reason ?? new Error("aborted"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      client.once("ready", () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      client.once("error", (error: Error & { level?: string }) => {
        signal?.removeEventListener("abort", onAbort);
        client.end();
        if (refused) return reject(new HostKeyError(target, refused));
        const where = `${target.user}@${target.host}:${target.port} (${target.path})`;
        if (error.level === "client-authentication")
          return reject(
            new AuthFailedError(
              `SSH login to ${where} was refused: authorise the public key of options.hosts.ssh.privateKeyFile (or a key in the SSH agent, SSH_AUTH_SOCK) for ${target.user}`,
            ),
          );
        reject(new ProviderError(`SSH to ${where} failed: ${error.message}`, { retryable: true }));
      });
      client.connect(config);
    });
    return new SshSession(client, target);
  }

  /** Runs a shell command as root; `stdin` (secrets go here, never in `command`) is written and closed. */
  exec(command: string, stdin?: string | Buffer): Promise<ExecResult> {
    const line = this.target.user === "root" ? command : `sudo -n sh -c ${shq(command)}`;
    return new Promise((resolve, reject) => {
      this.client.exec(line, (error, stream) => {
        if (error)
          return reject(
            new ProviderError(`SSH exec on ${this.target.host} failed: ${error.message}`, {
              retryable: true,
            }),
          );
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        stream.on("data", (d: Buffer) => out.push(d));
        stream.stderr.on("data", (d: Buffer) => err.push(d));
        stream.on("close", (code: number | null) =>
          resolve({
            code: code ?? 255,
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(err).toString("utf8"),
          }),
        );
        stream.end(stdin ?? "");
      });
    });
  }

  /** Like `exec`, but a non-zero exit is an error naming `what` and the first line of stderr. */
  async run(what: string, command: string, stdin?: string | Buffer): Promise<string> {
    const r = await this.exec(command, stdin);
    if (r.code !== 0) {
      const why = r.stderr.trim().split("\n")[0]?.slice(0, 300) || `exit status ${r.code}`;
      throw new ProviderError(`${what} on ${this.target.host} (${this.target.path}) failed: ${why}`);
    }
    return r.stdout;
  }

  /**
   * Writes a file atomically with the given mode: the content travels on stdin into a 0600 temporary file
   * beside it (umask 077), which is then chmod-ed and renamed over the target.
   */
  async writeFile(path: string, content: string, mode = "0600"): Promise<void> {
    const tmp = `${path}.k3sinfra-tmp`;
    await this.run(
      `writing ${path}`,
      `umask 077 && mkdir -p ${shq(dirOf(path))} && cat >${shq(tmp)} && chmod ${mode} ${shq(tmp)} && mv -f ${shq(tmp)} ${shq(path)}`,
      content,
    );
  }

  /** The file's content, or `undefined` when it does not exist. */
  async readFile(path: string): Promise<string | undefined> {
    const r = await this.exec(`if [ -f ${shq(path)} ]; then cat ${shq(path)}; else exit 3; fi`);
    if (r.code === 3) return undefined;
    if (r.code !== 0)
      throw new ProviderError(`reading ${path} on ${this.target.host} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  close(): void {
    this.client.end();
  }
}

const dirOf = (path: string): string => path.slice(0, path.lastIndexOf("/")) || "/";

/** Runs `fn` in a fresh session and always closes it, so no connection keeps the process alive. */
export async function withSsh<T>(
  target: SshTarget,
  auth: SshAuth,
  fn: (s: SshSession) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const s = await SshSession.open(target, auth, signal);
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}
