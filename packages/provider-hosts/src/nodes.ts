import {
  BOOTSTRAP_UNIT_NAME,
  CONFIG_TEMPLATE_PATH,
  DATASTORE_CA_PATH,
  type NodeService,
  type NodeSpec,
  type NodeState,
  ProviderError,
  type ResourceContext,
  type Tags,
} from "@k3sinfra/core";
import { parse } from "yaml";
import { claim, type Hosts, METADATA_DIR, readOwner, release, tagsMatch } from "./hosts.js";
import { type SshSession, type SshTarget, shq } from "./ssh/session.js";

/** Body of `k3sinfra_meta KEY`: the value `publish` wrote over SSH into a 0600 file on the host. */
export const HOSTS_METADATA_READER = `  cat "${METADATA_DIR}/$1" 2>/dev/null`;

/** K3s's own uninstall script, which the installer writes (https://docs.k3s.io/installation/uninstall). */
export const K3S_UNINSTALL = "/usr/local/bin/k3s-uninstall.sh";

interface CloudConfig {
  readonly write_files?: readonly { path: string; permissions?: string; content: string }[];
  readonly runcmd?: readonly (readonly string[])[];
}

const KEY = /^[a-z0-9-]{1,64}$/;
const VALUE = /^[A-Za-z0-9.:-]{1,253}$/;
const nodeId = (t: SshTarget): string => `ssh://${t.host}:${t.port}`;

/**
 * K3s servers on existing hosts. `create` applies core's cloud-init user data over SSH, as cloud-init would
 * on a cloud VM: its `write_files` (each over stdin into a 0600 temporary file, renamed with its mode) and
 * its `runcmd` (the systemd unit that runs core's bootstrap script until it succeeds). Everything written is
 * recorded first in the host's ownership record, so `delete` (K3s's uninstall script, then our files)
 * leaves the host as it was.
 */
export class HostsNodeService implements NodeService {
  readonly updatable = [] as const;

  /**
   * @param datastoreCa reads the PEM CA of the datastore (`options.hosts.datastore.caFile`), when there is one:
   * K3s then verifies the server with it (`datastore-cafile`).
   */
  constructor(
    private readonly hosts: Hosts,
    private readonly datastoreCa?: () => Promise<string>,
  ) {}

  /**
   * The user data's files. With a datastore CA file they gain what core writes for a CA bundle it is given
   * (`renderCloudInit` with `datastore.tls.caBundle`): the CA at `DATASTORE_CA_PATH` (0644) and
   * `datastore-cafile` in the K3s config template; the cloud providers' CA comes from `datastoreCaUrl`, which
   * has no equivalent for a file on the operator's machine.
   */
  private async files(doc: CloudConfig): Promise<{ path: string; permissions?: string; content: string }[]> {
    const files = [...(doc.write_files ?? [])];
    if (!this.datastoreCa) return files;
    const pem = await this.datastoreCa();
    const line = `datastore-cafile: "${DATASTORE_CA_PATH}"`;
    const out = files.map((f) =>
      f.path === CONFIG_TEMPLATE_PATH && !f.content.includes("datastore-cafile:")
        ? { ...f, content: f.content.replace(/^tls-san:/m, `${line}\ntls-san:`) }
        : f,
    );
    if (!out.some((f) => f.path === DATASTORE_CA_PATH))
      out.unshift({
        path: DATASTORE_CA_PATH,
        permissions: "0644",
        content: pem.endsWith("\n") ? pem : `${pem}\n`,
      });
    return out;
  }

  async create(spec: NodeSpec, ctx: ResourceContext): Promise<NodeState> {
    const target = this.hosts.node(spec.index);
    const doc = (parse(spec.userData) ?? {}) as CloudConfig;
    const files = await this.files(doc);
    ctx.report(`bootstrapping K3s on ${target.host} over SSH`);
    return this.hosts.with(target, ctx, async (s) => {
      await claim(s, "node", ctx, [...files.map((f) => f.path), METADATA_DIR], { zone: spec.zone });
      for (const f of files) await s.writeFile(f.path, f.content, f.permissions ?? "0600");
      // runcmd: daemon-reload, then enable --now --no-block of the bootstrap unit (a no-op once it runs).
      for (const argv of doc.runcmd ?? []) await s.run(argv.join(" "), argv.map(shq).join(" "));
      return this.state(s, target, ctx.name, spec.zone);
    });
  }

  private async state(s: SshSession, target: SshTarget, name: string, zone: string): Promise<NodeState> {
    // The address of the default route, as the bootstrap script picks K3s's node-ip.
    const ip = (
      await s.run(
        "finding the private IP",
        "ip -4 -o route get 1.1.1.1 | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p'",
      )
    ).trim();
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip))
      throw new ProviderError(
        `${target.host} (${target.path}) has no IPv4 default route: K3s needs one to pick its node IP`,
      );
    const cpus = (await s.run("counting CPUs", "nproc")).trim();
    return {
      id: nodeId(target),
      name,
      zone,
      privateIp: ip,
      status: "running",
      instanceType: `existing host (${cpus} vCPU)`,
    };
  }

  private targetOf(state: Pick<NodeState, "id">): SshTarget | undefined {
    return this.hosts.nodeTargets().find((t) => nodeId(t) === state.id);
  }

  async read(state: NodeState, ctx: ResourceContext): Promise<NodeState | undefined> {
    const target = this.targetOf(state);
    if (!target) return undefined;
    return this.hosts.with(target, ctx, async (s) => {
      const owner = await readOwner(s, "node");
      if (!owner || !tagsMatch(owner.tags, ctx.tags)) return undefined;
      // The host answers and is ours: it runs (K3s's own health is the load balancer's and verify's to judge).
      return this.state(s, target, owner.name, String(owner.data?.zone ?? state.zone));
    });
  }

  /** Converges a host back to its user data (files rewritten, the unit enabled and started again). */
  async update(_state: NodeState, spec: NodeSpec, ctx: ResourceContext): Promise<NodeState> {
    return this.create(spec, ctx);
  }

  async delete(state: NodeState, ctx: ResourceContext): Promise<void> {
    const target = this.targetOf(state);
    if (!target) return;
    await this.hosts.with(target, ctx, async (s) => {
      const owner = await readOwner(s, "node");
      if (!owner || !tagsMatch(owner.tags, { "k3sinfra:cluster": ctx.cluster })) return;
      ctx.report(`uninstalling K3s from ${target.host}`);
      await s.run(
        "stopping the bootstrap unit and uninstalling K3s",
        `systemctl disable --now ${BOOTSTRAP_UNIT_NAME} >/dev/null 2>&1 || true
if [ -x ${K3S_UNINSTALL} ]; then ${K3S_UNINSTALL} >/dev/null; fi
rm -rf ${shq(METADATA_DIR)} /var/lib/rancher/k3sinfra
systemctl daemon-reload >/dev/null 2>&1 || true`,
      );
      await release(s, "node", owner);
    });
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<NodeState[]> {
    const found: NodeState[] = [];
    for (const target of this.hosts.nodeTargets()) {
      const state = await this.hosts.with(target, ctx, async (s) => {
        const owner = await readOwner(s, "node");
        if (!owner || !tagsMatch(owner.tags, tags)) return undefined;
        return this.state(s, target, owner.name, String(owner.data?.zone ?? ""));
      });
      if (state) found.push(state);
    }
    return found;
  }

  async publish(
    state: NodeState,
    values: Readonly<Record<string, string>>,
    ctx: ResourceContext,
  ): Promise<void> {
    const target = this.targetOf(state);
    if (!target) throw new ProviderError(`node ${state.id} is not one of options.hosts.nodes`);
    await this.hosts.with(target, ctx, async (s) => {
      for (const [key, value] of Object.entries(values)) {
        if (!KEY.test(key) || !VALUE.test(value))
          throw new ProviderError(`refusing to publish ${key}: not a host name, IP address or port`);
        await s.writeFile(`${METADATA_DIR}/${key}`, value, "0600");
      }
    });
  }

  /** The bootstrap's stage lines from the journal. */
  async bootLog(state: NodeState, ctx: ResourceContext): Promise<string | undefined> {
    const target = this.targetOf(state);
    if (!target) return undefined;
    return this.hosts.with(target, ctx, async (s) => {
      const r = await s.exec(`journalctl -u ${BOOTSTRAP_UNIT_NAME} -o cat --no-pager -n 200 2>/dev/null`);
      return r.code === 0 && r.stdout !== "" ? r.stdout : undefined;
    });
  }

  async native(): Promise<unknown> {
    return this.hosts;
  }
}
