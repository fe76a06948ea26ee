import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** AWS calls that create an object (or a rule inside one): a crash right after any of them can leak it. */
export const CREATE_CALLS = [
  "CreateSecurityGroup",
  "AuthorizeSecurityGroupIngress",
  "RunInstances",
  "CreateDBSubnetGroup",
  "CreateDBParameterGroup",
  "CreateDBInstance",
  "CreateLoadBalancer",
  "CreateTargetGroup",
  "CreateListener",
  "ChangeResourceRecordSets",
  "CreateRole",
  "PutRolePolicy",
  "CreateInstanceProfile",
  "AddRoleToInstanceProfile",
  "PutParameter",
] as const;

/** The operation of a query-protocol (EC2, RDS, ELBv2) or Route 53 request. */
const operationOf = (method: string, path: string, body: string, target?: string): string => {
  // JSON protocols (SSM) name the operation in X-Amz-Target: `AmazonSSM.PutParameter`.
  if (target) return target.slice(target.lastIndexOf(".") + 1);
  const action = new URLSearchParams(body).get("Action");
  if (action) return action;
  if (method === "POST" && /\/hostedzone\/[^/]+\/rrset\/?$/.test(path)) return "ChangeResourceRecordSets";
  return `${method} ${path}`;
};

/**
 * An HTTP proxy in front of the emulator that plays a process killed right after its k-th successful create
 * call: that call reaches the cloud and succeeds, then `onCrash` runs (abort the run, freeze its state) and
 * every later request is cut off before reaching the cloud, as a dead process sends nothing. Unarmed, it
 * records what each request asked for (the emulator's request log has operations, not parameters).
 */
export class CrashProxy {
  readonly #target: URL;
  readonly #server: Server;
  #crashAt: number | undefined;
  #creates = 0;
  #crashed = false;
  #onCrash: () => void = () => undefined;
  /** Every request that reached the cloud: its operation and its body (form fields or Route 53 XML). */
  readonly calls: { operation: string; body: string }[] = [];

  constructor(target: string) {
    this.#target = new URL(target);
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (this.#crashed) {
          req.socket.destroy();
          return;
        }
        const body = Buffer.concat(chunks);
        const target = req.headers["x-amz-target"];
        const op = operationOf(
          req.method ?? "GET",
          req.url ?? "/",
          body.toString(),
          typeof target === "string" ? target : undefined,
        );
        this.calls.push({ operation: op, body: body.toString() });
        const upstream = request(
          {
            host: this.#target.hostname,
            port: this.#target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (up) => {
            const parts: Buffer[] = [];
            up.on("data", (c: Buffer) => parts.push(c));
            up.on("end", () => {
              const ok = (up.statusCode ?? 500) < 300;
              if (!this.#crashed && ok && (CREATE_CALLS as readonly string[]).includes(op)) this.#creates++;
              if (!this.#crashed && this.#crashAt !== undefined && this.#creates >= this.#crashAt) {
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
        upstream.end(body);
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Crash after the k-th successful create call (undefined: never), calling `onCrash` then. */
  arm(k: number | undefined, onCrash: () => void = () => undefined): void {
    this.#crashAt = k;
    this.#onCrash = onCrash;
  }

  /** Successful create calls since the last `arm`. */
  get creates(): number {
    return this.#creates;
  }

  get crashed(): boolean {
    return this.#crashed;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
