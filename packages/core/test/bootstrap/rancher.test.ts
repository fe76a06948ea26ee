import { describe, expect, it } from "vitest";
import {
  datastoreEndpoint,
  kubeconfigCommands,
  renderK3sConfig,
  renderRancherCommands,
} from "../../src/bootstrap/index.js";
import { Secret } from "../../src/secret.js";

const PASSWORD = "RancherBootstrapSecret123";

describe("renderRancherCommands", () => {
  const base = {
    hostname: "rancher.example.com",
    version: "2.12.3",
    replicas: 2,
    showSecrets: false,
  } as const;

  it("L4: cert-manager with CRDs first, then Rancher with hostname, replicas and a masked password", () => {
    const cmds = renderRancherCommands({ ...base, mode: "l4", bootstrapPassword: new Secret(PASSWORD) });
    const certManager = cmds.findIndex((c) => c.includes("install cert-manager jetstack/cert-manager"));
    const rancher = cmds.findIndex((c) => c.includes("install rancher rancher-stable/rancher"));
    expect(certManager).toBeGreaterThan(-1);
    expect(cmds[certManager]).toMatch(/--set crds\.enabled=true --wait/);
    expect(rancher).toBeGreaterThan(certManager);
    expect(cmds[rancher]).toContain("--namespace cattle-system");
    expect(cmds[rancher]).toContain("--version '2.12.3'");
    expect(cmds[rancher]).toContain(
      'hostname: "rancher.example.com"\nreplicas: 2\nbootstrapPassword: "********"',
    );
    expect(cmds.join("\n")).not.toContain(PASSWORD);
    expect(cmds.join("\n")).not.toContain("tls:");
  });

  it("L7: tls=external, no cert-manager; the password only on stdin when shown", () => {
    const cmds = renderRancherCommands({
      ...base,
      mode: "l7",
      showSecrets: true,
      bootstrapPassword: new Secret(PASSWORD),
    });
    expect(cmds.join("\n")).not.toContain("cert-manager");
    const rancher = cmds.find((c) => c.includes("install rancher"))!;
    expect(rancher).toContain('tls: "external"\nagentTLSMode: "system-store"');
    const [commandLine, ...stdin] = rancher.split("\n");
    expect(commandLine).not.toContain(PASSWORD);
    expect(stdin.join("\n")).toContain(`bootstrapPassword: "${PASSWORD}"`);
  });
});

describe("kubeconfigCommands", () => {
  it("targets the first server and verifies against the hostname by default", () => {
    const cmds = kubeconfigCommands({
      firstServer: { address: "198.51.100.7" },
      hostname: "rancher.example.com",
    });
    expect(cmds.join("\n")).toContain("ssh 'ubuntu@198.51.100.7' sudo cat /etc/rancher/k3s/k3s.yaml");
    expect(cmds.join("\n")).toContain(
      "config set-cluster default --server=https://198.51.100.7:6443 --tls-server-name=rancher.example.com",
    );
  });

  it("uses the hostname when 6443 is reachable through it", () => {
    const cmds = kubeconfigCommands({
      firstServer: { address: "10.0.1.5", sshUser: "admin" },
      hostname: "rancher.example.com",
      apiViaHostname: true,
    });
    expect(cmds.join("\n")).toContain("--server=https://rancher.example.com:6443\n");
  });
});

describe("renderK3sConfig", () => {
  const input = {
    token: new Secret("TokenSecret0123456789"),
    datastore: {
      user: "k3s",
      password: new Secret("DbSecret0123"),
      host: "db.example.com",
      port: 3306,
      database: "k3s",
    },
    datastoreTls: true,
    tlsSan: ["rancher.example.com"],
    nodeIp: "10.0.1.5",
  };

  it("writes the datastore endpoint without tls= and the CA file when TLS is on", () => {
    const yaml = renderK3sConfig(input);
    expect(yaml).toContain('datastore-endpoint: "mysql://k3s:DbSecret0123@tcp(db.example.com:3306)/k3s"');
    expect(yaml).toContain('datastore-cafile: "/etc/rancher/k3s/datastore-ca.pem"');
    expect(yaml).toContain('token: "TokenSecret0123456789"');
  });

  it("masks secrets for display", () => {
    const yaml = renderK3sConfig({ ...input, showSecrets: false });
    expect(yaml).not.toMatch(/TokenSecret|DbSecret/);
    expect(datastoreEndpoint(input.datastore, false)).toBe(
      "mysql://k3s:********@tcp(db.example.com:3306)/k3s",
    );
  });
});
