/**
 * A certificate authority made at start and a server certificate it signs for the addresses the emulator
 * listens on, for clouds whose clients only talk HTTPS (Azure's refuse to send a bearer token over plain
 * HTTP: https://github.com/Azure/azure-sdk-for-js/issues/25206). node:crypto cannot sign X.509, so the
 * `openssl` binary does it; the keys never leave memory and a temporary directory removed at once.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TlsMaterial {
  /** PEM of the CA that signed `cert`: what clients trust. */
  readonly caPem: string;
  readonly key: string;
  readonly cert: string;
}

/**
 * A fresh CA and a leaf for `host` (an IP or a name), `localhost` and 127.0.0.1, valid for 30 days.
 * Throws with a clear message when `openssl` is missing.
 */
export function makeTlsMaterial(host: string): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-emulator-tls-"));
  const run = (args: string[]) => {
    try {
      execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      if (e.code === "ENOENT")
        throw new Error("serving HTTPS (the Azure cloud) needs the openssl binary on PATH; install openssl");
      throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
    }
  };
  try {
    const ip = /^[0-9.]+$|:/.test(host);
    const sans = [ip ? `IP:${host}` : `DNS:${host}`, "DNS:localhost", "IP:127.0.0.1"];
    const curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(
      ["req", "-x509", ...curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30"].concat([
        "-subj",
        "/CN=k3sinfra emulator CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ]),
    );
    run(["req", ...curve, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=k3sinfra emulator"]);
    writeFileSync(
      join(dir, "leaf.ext"),
      `subjectAltName=${[...new Set(sans)].join(",")}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
    );
    run(
      ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"].concat([
        "-out",
        "leaf.pem",
        "-days",
        "30",
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
