import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * An ARM request that creates or changes something: a PUT, PATCH or DELETE, or a POST action other than a
 * read (`…/health`, `list…`, `checkNameAvailability`) or a token request. Status polls of long-running
 * operations are GETs: never counted.
 */
export const isMutating = (method: string, url: string): boolean => {
  const path = url.split("?")[0] ?? "";
  if (method === "PUT" || method === "PATCH" || method === "DELETE") return true;
  return (
    method === "POST" && !/\/(oauth2\/v2\.0\/token|health|list[A-Za-z]*|checkNameAvailability)$/.test(path)
  );
};

/** A CA and a leaf it signs for 127.0.0.1, made with openssl as the emulator makes its own (src/tls.ts). */
function makeTls(): { caPem: string; key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-crash-proxy-"));
  const run = (args: string[]) =>
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  try {
    const curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(
      ["req", "-x509", ...curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"].concat([
        "-subj",
        "/CN=k3sinfra crash proxy CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ]),
    );
    run(["req", ...curve, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=k3sinfra crash proxy"]);
    writeFileSync(
      join(dir, "leaf.ext"),
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    );
    run(
      ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"].concat([
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
      ]),
    );
    const read = (f: string) => readFileSync(join(dir, f), "utf8");
    return { caPem: read("ca.pem"), key: read("leaf.key"), cert: read("leaf.pem") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let material: ReturnType<typeof makeTls> | undefined;

/**
 * An HTTPS proxy in front of the emulator (ARM, the token endpoint, vault data planes) that plays a process
 * killed right after its k-th successful mutating call: that call reaches the cloud and succeeds, then `onCrash`
 * runs (abort the run, freeze its state) and every later request is cut off before reaching the cloud, as a dead
 * process sends nothing, until the next run begins (`begin`). The Host header is passed on, so the emulator's
 * URLs point back at the proxy and status polls go through it too. One proxy serves every run of a test: a URL
 * the emulator handed out through it (an operation's, a vault's) stays reachable for the runs after a crash.
 */
export class CrashProxy {
  readonly #target: URL;
  readonly #server: Server;
  #crashAt: number | undefined;
  #mutations = 0;
  #crashed = false;
  #onCrash: () => void = () => undefined;
  #statusPolls = 0;
  /** Which run is on (`begin`): a reply to an earlier run's request is never delivered nor counted. */
  #run = 0;
  /** Each mutating call of the run that succeeded, `METHOD path` (for messages). */
  #calls: string[] = [];

  /** `target`: the emulator's HTTPS base URL; `targetCa`: the CA it presents. */
  constructor(target: string, targetCa: string) {
    this.#target = new URL(target);
    material ??= makeTls();
    this.#server = createServer({ key: material.key, cert: material.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (this.#crashed) {
          req.socket.destroy();
          return;
        }
        const run = this.#run;
        const method = req.method ?? "GET";
        const mutating = isMutating(method, req.url ?? "/");
        if (method === "GET" && /\/(operations|operationResults)\/[^/?]+(\?|$)/.test(req.url ?? ""))
          this.#statusPolls++;
        const upstream = request(
          {
            host: this.#target.hostname,
            port: this.#target.port,
            method,
            path: req.url,
            headers: req.headers,
            ca: targetCa,
          },
          (up) => {
            const parts: Buffer[] = [];
            up.on("data", (c: Buffer) => parts.push(c));
            up.on("end", () => {
              if (run !== this.#run) {
                req.socket.destroy();
                return;
              }
              if (!this.#crashed && mutating && (up.statusCode ?? 500) < 300) {
                this.#mutations++;
                this.#calls.push(`${method} ${(req.url ?? "").split("?")[0]}`);
              }
              if (!this.#crashed && this.#crashAt !== undefined && this.#mutations >= this.#crashAt) {
                this.#crashed = true;
                this.#onCrash();
              }
              // After the crash no reply arrives, not even to calls that were in flight: the process is gone.
              if (this.#crashed) {
                req.socket.destroy();
                return;
              }
              res.writeHead(up.statusCode ?? 500, up.headers);
              res.end(Buffer.concat(parts));
            });
          },
        );
        upstream.on("error", () => req.socket.destroy());
        upstream.end(Buffer.concat(chunks));
      });
    });
  }

  /** The PEM of the CA the proxy's certificate chains to. */
  static get caPem(): string {
    material ??= makeTls();
    return material.caPem;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /**
   * A run begins: counts start from zero, and it crashes after its k-th successful mutating call (undefined:
   * never), calling `onCrash` then.
   */
  begin(k?: number, onCrash: () => void = () => undefined): void {
    this.#run++;
    this.#crashAt = k;
    this.#onCrash = onCrash;
    this.#mutations = 0;
    this.#statusPolls = 0;
    this.#calls = [];
    this.#crashed = false;
  }

  get calls(): readonly string[] {
    return this.#calls;
  }

  get mutations(): number {
    return this.#mutations;
  }

  /** Status requests of long-running operations that came through the proxy (the emulator's URLs led here). */
  get statusPolls(): number {
    return this.#statusPolls;
  }

  get crashed(): boolean {
    return this.#crashed;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
