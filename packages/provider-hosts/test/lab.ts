// The test lab: "hosts" made of network namespaces (ip netns) on one bridge, each with a private mount
// namespace and a real sshd (Debian's openssh-server); the load balancer host also runs a real nginx. The real
// MariaDB CI starts (127.0.0.1) is reached through a TCP forwarder on the bridge. K3s cannot be downloaded
// here: get.k3s.io resolves, on the node hosts only, to an HTTPS stand-in of the installer on the bridge.
// Needs root (CI runs as root); traffic never leaves this machine's namespaces.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type Server as HttpsServer, createServer as httpsServer } from "node:https";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprint } from "../src/ssh/host-key.js";

export const isRoot = process.getuid?.() === 0;
export const skipReason = "needs root to create network namespaces (ip netns); CI runs as root";

const FIXTURES = join(import.meta.dirname, "fixtures");
const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] }).toString();

export interface LabHost {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly dir: string;
  /** The host key's fingerprint, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** Runs a shell command inside the host (its network and mount namespaces), as root. */
  exec(command: string): string;
  /**
   * The same without blocking this process: needed when the command talks to the lab's servers, which run in
   * this process (the MariaDB forwarder, the installer stand-in).
   */
  run(command: string): Promise<string>;
}

export interface Lab {
  readonly dir: string;
  readonly gateway: string;
  readonly privateKeyFile: string;
  readonly nodes: LabHost[];
  readonly lb: LabHost;
  /** Where the hosts reach MariaDB (a forwarder on the bridge). */
  readonly mysql: { host: string; port: number; user: string; password: string };
  /** With `privateDatabase`: a MariaDB of this lab only, on the bridge (no TLS), with an admin user. */
  readonly privateMysql?: { host: string; port: number; user: string; password: string };
  /** Replaces a host's SSH host key (a reinstalled host, or a machine in the middle) and restarts its sshd. */
  rekey(host: LabHost): Promise<void>;
  close(): Promise<void>;
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  // Bounded by attempts, not time: a loaded machine only makes it slower.
  for (let i = 0; i < 3000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`lab: ${what} never happened`);
}

/** Whether the sshd at `host` presents this ed25519 public key (base64 blob) in a handshake (ssh-keyscan). */
const presents = (host: string, blob: string) =>
  new Promise<boolean>((resolve) =>
    execFile("ssh-keyscan", ["-T", "5", "-t", "ed25519", host], (error, stdout) =>
      resolve(!error && stdout.includes(blob)),
    ),
  );

const tcpOpen = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

function certificates(dir: string): void {
  const o = (args: string[]) => sh("openssl", args);
  o([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=k3sinfra lab CA",
    "-keyout",
    `${dir}/ca-key.pem`,
    "-out",
    `${dir}/ca.pem`,
  ]);
  for (const [name, san] of [
    ["installer", "DNS:get.k3s.io"],
    ["responder", "DNS:localhost"],
  ]) {
    o([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      `${dir}/${name}-key.pem`,
      "-out",
      `${dir}/${name}.csr`,
    ]);
    writeFileSync(`${dir}/${name}.ext`, `subjectAltName=${san}\n`);
    o([
      "x509",
      "-req",
      "-in",
      `${dir}/${name}.csr`,
      "-CA",
      `${dir}/ca.pem`,
      "-CAkey",
      `${dir}/ca-key.pem`,
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${dir}/${name}.ext`,
      "-out",
      `${dir}/${name}-cert.pem`,
    ]);
  }
  sh("chmod", ["0644", ...["ca.pem", "responder-key.pem", "responder-cert.pem"].map((f) => `${dir}/${f}`)]);
  writeFileSync(
    `${dir}/ca-bundle.crt`,
    readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8") + readFileSync(`${dir}/ca.pem`, "utf8"),
  );
}

function hostKey(dir: string): string {
  rmSync(`${dir}/ssh_host_ed25519_key`, { force: true });
  rmSync(`${dir}/ssh_host_ed25519_key.pub`, { force: true });
  sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/ssh_host_ed25519_key`]);
  const blob = readFileSync(`${dir}/ssh_host_ed25519_key.pub`, "utf8").split(" ")[1] ?? "";
  return fingerprint(Buffer.from(blob, "base64"));
}

/** Where a lab will be, known before it starts (a suite's options are fixed when it is declared). */
export interface LabPlan {
  readonly n: number;
  readonly dir: string;
  readonly nodeIps: string[];
  readonly lbIp: string;
  readonly gateway: string;
}

/** Picks a free subnet and a directory: parallel test files each have their lab. */
export function planLab(nodes = 2): LabPlan {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-lab-"));
  let n = (process.pid % 200) + 20;
  // Taken: its bridge, any of its hosts' links, or any of its namespaces (a lab a killed run left behind).
  const taken = (k: number) =>
    sh("ip", ["-o", "link"]).includes(`khb${k}:`) ||
    new RegExp(`\\bkh${k}(lb|n\\d+)[@:]`).test(sh("ip", ["-o", "link"])) ||
    sh("ip", ["netns", "list"]).includes(`kh${k}-`);
  if (isRoot) while (taken(n)) n = n + 1 > 250 ? 20 : n + 1;
  return {
    n,
    dir,
    nodeIps: Array.from({ length: nodes }, (_, i) => `10.213.${n}.${10 + i}`),
    lbIp: `10.213.${n}.19`,
    gateway: `10.213.${n}.1`,
  };
}

/**
 * Starts a lab with `nodes` node hosts and one NGINX host; every host key goes into `<dir>/known_hosts`.
 * `defaultSite: false` removes Debian's default site (port 80) from the NGINX host first.
 */
export async function startLab(
  nodes = 2,
  plan = planLab(nodes),
  opts: { defaultSite?: boolean; privateDatabase?: boolean } = {},
): Promise<Lab> {
  const { dir, n } = plan;
  sh("chmod", ["0755", dir]);
  const bridge = `khb${n}`;
  const gateway = `10.213.${n}.1`;
  sh("ip", ["link", "add", bridge, "type", "bridge"]);
  sh("ip", ["addr", "add", `${gateway}/24`, "dev", bridge]);
  sh("ip", ["link", "set", bridge, "up"]);
  certificates(dir);
  writeFileSync(`${dir}/hosts`, `127.0.0.1 localhost\n${gateway} get.k3s.io\n`);
  copyFileSync(join(FIXTURES, "systemctl.sh"), `${dir}/systemctl`);
  sh("chmod", ["0755", `${dir}/systemctl`]);
  sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/client_key`]);
  const installer = readFileSync(join(FIXTURES, "install-k3s.sh"), "utf8")
    .replace("@NODE@", process.execPath)
    .replace("@RESPONDER@", `${join(FIXTURES, "responder.mjs")} ${dir}`);
  const servers: (Server | HttpsServer)[] = [];
  const get = httpsServer(
    { key: readFileSync(`${dir}/installer-key.pem`), cert: readFileSync(`${dir}/installer-cert.pem`) },
    (_req, res) => res.end(installer),
  );
  await new Promise<void>((r) => get.listen(443, gateway, r));
  servers.push(get);
  const url = new URL(
    process.env.K3SINFRA_TEST_MYSQL_URL ?? "mysql://k3sinfra_admin:k3sinfraTestOnly0000@127.0.0.1:33306",
  );
  const forward = createServer((c) => {
    const up = connect({ host: url.hostname, port: Number(url.port) });
    c.pipe(up).pipe(c);
    c.on("error", () => up.destroy());
    up.on("error", () => c.destroy());
  });
  await new Promise<void>((r) => forward.listen(3306, gateway, r));
  servers.push(forward);

  const children: ChildProcess[] = [];
  let privateMysql: Lab["privateMysql"];
  if (opts.privateDatabase) {
    const data = join(dir, "mariadb");
    sh("mariadb-install-db", [
      "--no-defaults",
      "--user=root",
      `--datadir=${data}`,
      "--auth-root-authentication-method=socket",
      "--skip-test-db",
    ]);
    const server = spawn(
      "mariadbd",
      [
        "--no-defaults",
        "--user=root",
        `--datadir=${data}`,
        `--socket=${data}/sock`,
        `--pid-file=${data}/pid`,
        "--port=3307",
        `--bind-address=${gateway}`,
        "--skip-name-resolve",
      ],
      { detached: true, stdio: "ignore" },
    );
    children.push(server);
    await until("the lab's MariaDB", () => tcpOpen(gateway, 3307));
    await until("the lab's MariaDB socket", () => {
      try {
        sh("mariadb", [
          "--no-defaults",
          `--socket=${data}/sock`,
          "-u",
          "root",
          "-e",
          "CREATE USER IF NOT EXISTS 'lab_admin'@'%' IDENTIFIED BY 'labAdmin0Passw0rd'; GRANT ALL PRIVILEGES ON *.* TO 'lab_admin'@'%' WITH GRANT OPTION",
        ]);
        return true;
      } catch {
        return false;
      }
    });
    privateMysql = { host: gateway, port: 3307, user: "lab_admin", password: "labAdmin0Passw0rd" };
  }
  const hosts: LabHost[] = [];
  const startSshd = (h: LabHost, role: "node" | "lb") => {
    const child = spawn(
      "ip",
      ["netns", "exec", h.ns, "unshare", "--mount", "sh", join(FIXTURES, "host.sh"), role, dir, h.dir],
      { detached: true, stdio: "ignore" },
    );
    children.push(child);
    return child;
  };
  const makeHost = async (name: string, index: number, role: "node" | "lb"): Promise<LabHost> => {
    const ns = `kh${n}-${name}`;
    const ip = `10.213.${n}.${10 + index}`;
    const hdir = join(dir, name);
    sh("mkdir", ["-p", hdir]);
    sh("ip", ["netns", "add", ns]);
    sh("ip", ["link", "add", `kh${n}${name}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    sh("ip", ["link", "set", `kh${n}${name}`, "master", bridge, "up"]);
    for (const args of [
      ["link", "set", "lo", "up"],
      ["addr", "add", `${ip}/24`, "dev", "eth0"],
      ["link", "set", "eth0", "up"],
      ["route", "add", "default", "via", gateway],
    ])
      sh("ip", ["netns", "exec", ns, "ip", ...args]);
    const fp = hostKey(hdir);
    copyFileSync(`${dir}/client_key.pub`, `${hdir}/authorized_keys`);
    writeFileSync(
      `${hdir}/sshd_config`,
      [
        `ListenAddress ${ip}`,
        `HostKey ${hdir}/ssh_host_ed25519_key`,
        `PidFile ${hdir}/sshd.pid`,
        `AuthorizedKeysFile ${hdir}/authorized_keys`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "MaxStartups 100",
        "",
      ].join("\n"),
    );
    if (role === "lb") {
      cpSync("/etc/nginx", `${hdir}/nginx-etc`, { recursive: true });
      if (opts.defaultSite === false) rmSync(`${hdir}/nginx-etc/sites-enabled/default`, { force: true });
    }
    const h: LabHost = {
      name,
      ns,
      ip,
      dir: hdir,
      fingerprint: fp,
      run: (command) =>
        new Promise((resolve, reject) =>
          execFile(
            "ip",
            ["netns", "exec", ns, "nsenter", `--mount=/proc/${sshdPid(h)}/ns/mnt`, "sh", "-c", command],
            (error, stdout) => (error ? reject(error) : resolve(stdout)),
          ),
        ),
      exec: (command) =>
        sh("ip", ["netns", "exec", ns, "nsenter", `--mount=/proc/${sshdPid(h)}/ns/mnt`, "sh", "-c", command]),
    };
    startSshd(h, role);
    await until(`sshd on ${ip}`, () => tcpOpen(ip, 22));
    return h;
  };
  const sshdPid = (h: LabHost) => readFileSync(`${h.dir}/sshd.pid`, "utf8").trim();
  for (let i = 0; i < nodes; i++) hosts.push(await makeHost(`n${i}`, i, "node"));
  const lb = await makeHost("lb", 9, "lb");
  writeFileSync(
    `${dir}/known_hosts`,
    [...hosts, lb]
      .map(
        (h) =>
          `${h.ip} ${readFileSync(`${h.dir}/ssh_host_ed25519_key.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`,
      )
      .join(""),
  );
  return {
    dir,
    gateway,
    privateKeyFile: `${dir}/client_key`,
    nodes: hosts,
    lb,
    mysql: {
      host: gateway,
      port: 3306,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    },
    ...(privateMysql ? { privateMysql } : {}),
    async rekey(h) {
      h.fingerprint = hostKey(h.dir);
      // SIGHUP makes sshd re-execute itself and read its host keys again; new connections get the new key.
      process.kill(Number(sshdPid(h)), "SIGHUP");
      // Until sshd answers a handshake with the new key: an open port alone may still be the old process.
      const blob = readFileSync(`${h.dir}/ssh_host_ed25519_key.pub`, "utf8").split(" ")[1] ?? "";
      await until(`sshd on ${h.ip} presenting its new key`, () => presents(h.ip, blob));
    },
    async close() {
      for (const h of [...hosts, lb]) {
        // Every process in the host's namespace is one this lab started (sshd, nginx, the stand-ins).
        const pids = sh("ip", ["netns", "pids", h.ns])
          .split("\n")
          .filter((p) => p !== "");
        for (const p of pids) {
          try {
            process.kill(Number(p), "SIGKILL");
          } catch {}
        }
        sh("ip", ["netns", "del", h.ns]);
      }
      for (const c of children) {
        // The lab's own processes (the private MariaDB; the sshd launchers are gone with their namespaces).
        if (c.pid !== undefined && c.exitCode === null)
          try {
            process.kill(-c.pid, "SIGKILL");
          } catch {}
        c.unref();
      }
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      sh("ip", ["link", "del", bridge]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
