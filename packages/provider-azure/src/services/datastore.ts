import type { Server } from "@azure/arm-mysql-flexible";
import {
  type DatastoreService,
  type DatastoreSpec,
  type DatastoreState,
  DeletionProtectedError,
  InvalidConfigError,
  type ResourceContext,
  type Tags,
} from "@k3sinfra/core";
import { azureCall, azureOperation, collect, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { assertOwned, hasTags, parseId, resourceGroupOf } from "../naming.js";
import type { AzureOptions } from "../options.js";
import { datastoreSku } from "../sizing.js";
import { waitGone, waitSucceeded } from "./arm-wait.js";
import { networkNames } from "./network.js";
import type { AzureNetworkState } from "./network-user.js";

const MINUTE = 60_000;
/** The tag that says deletion protection is on (flexible servers have no such property of their own). */
export const PROTECTION_TAG = "k3sinfra:deletion-protection";

/**
 * The MySQL version sent: @azure/arm-mysql-flexible 3.1 speaks api-version 2021-05-01, whose `version` enum is
 * only 5.7 and 8.0.21, so 8.4 cannot be asked for through it.
 * https://github.com/Azure/azure-rest-api-specs/blob/main/specification/mysql/resource-manager/Microsoft.DBforMySQL/FlexibleServers/stable/2021-05-01/mysql.json
 */
export const MYSQL_VERSIONS: Readonly<Record<string, string>> = { "8.0": "8.0.21" };

/** The private DNS zone of one server: its name must end with `mysql.database.azure.com`. */
export const privateZoneOf = (server: string) => `${server}.private.mysql.database.azure.com`;

/**
 * MySQL flexible server with private access only: a subnet delegated to the service (the network's) and a
 * private DNS zone linked to the VNet, `require_secure_transport` on, and the K3s database.
 * https://learn.microsoft.com/en-us/azure/mysql/flexible-server/concepts-networking-vnet
 */
export class AzureDatastoreService implements DatastoreService {
  readonly updatable = ["deletionProtection", "backupRetentionDays"] as const;

  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
    private readonly settings: { readonly databaseName: string },
  ) {}

  async native(): Promise<unknown> {
    return this.clients.mysql();
  }

  async create(spec: DatastoreSpec, ctx: ResourceContext): Promise<DatastoreState> {
    const version = MYSQL_VERSIONS[spec.version];
    if (!version)
      throw new InvalidConfigError([
        {
          path: "datastore.version",
          message: `MySQL ${spec.version} is not offered on Azure through api-version 2021-05-01; use ${Object.keys(MYSQL_VERSIONS).join(" or ")}`,
        },
      ]);
    const sku = datastoreSku(spec.size, spec.instanceClass ?? this.options.datastoreSku);
    if (!sku)
      throw new InvalidConfigError([
        { path: "datastore.size", message: "no MySQL flexible server SKU fits; set datastore.instanceClass" },
      ]);
    const rg = parseId(spec.network.id).resourceGroup;
    const name = ctx.name;
    const mysql = await this.clients.mysql();
    const get = () => this.getServer(rg, name, ctx);
    const existing = await get();
    if (existing) assertOwned(existing.tags, ctx, `MySQL flexible server ${existing.id}`);
    else {
      const zoneId = await this.privateZone(rg, name, spec.network.networkId, ctx);
      // In a user's VNet the network records the datastore subnet; in k3sinfra's own it is named in it.
      const subnet =
        (spec.network as AzureNetworkState).datastoreSubnet ??
        `${spec.network.networkId}/subnets/${networkNames(parseId(spec.network.networkId).name).datastoreSubnet}`;
      const zones = [...new Set(spec.network.subnets.map((s) => s.zone))];
      const password = spec.password.reveal();
      await azureCall(
        `MySQL Servers_Create (${name})`,
        ctx,
        (o) =>
          mysql.servers.beginCreate(
            rg,
            name,
            {
              location: ctx.region,
              tags: { ...ctx.tags, [PROTECTION_TAG]: String(spec.deletionProtection) },
              sku,
              administratorLogin: spec.username,
              administratorLoginPassword: password,
              version,
              availabilityZone: zones[0] ?? "1",
              createMode: "Default",
              storage: { storageSizeGB: Math.max(20, spec.storageGiB), autoGrow: "Enabled" },
              backup: { backupRetentionDays: spec.backupRetentionDays, geoRedundantBackup: "Disabled" },
              // Zone-redundant HA keeps a standby in another zone (General Purpose or Memory Optimized only).
              highAvailability: spec.highAvailability
                ? { mode: "ZoneRedundant", standbyAvailabilityZone: zones[1] ?? "2" }
                : { mode: "Disabled" },
              network: { delegatedSubnetResourceId: subnet, privateDnsZoneResourceId: zoneId },
            },
            o,
          ),
        [password],
      );
    }
    const server = await waitSucceeded(
      `MySQL flexible server ${name} to be ready`,
      get,
      ctx,
      60 * MINUTE,
      (s) => s.state,
    );
    await this.requireTls(rg, name, ctx);
    const db = this.settings.databaseName;
    await azureOperation(`MySQL Databases_CreateOrUpdate (${name}/${db})`, ctx, (o) =>
      mysql.databases.beginCreateOrUpdate(
        rg,
        name,
        db,
        { charset: "utf8mb4", collation: "utf8mb4_0900_ai_ci" },
        o,
      ),
    );
    return this.state(server);
  }

  async read(state: DatastoreState, ctx: ResourceContext): Promise<DatastoreState | undefined> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const server = await this.getServer(rg, name, ctx);
    return server ? this.state(server) : undefined;
  }

  /** Deletion protection (a tag k3sinfra honours) and backup retention, changed in place. */
  async update(state: DatastoreState, spec: DatastoreSpec, ctx: ResourceContext): Promise<DatastoreState> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const mysql = await this.clients.mysql();
    const server = await this.getServer(rg, name, ctx);
    if (!server) return state;
    const tags = { ...(server.tags ?? {}), [PROTECTION_TAG]: String(spec.deletionProtection) };
    await azureOperation(`MySQL Servers_Update (${name})`, ctx, (o) =>
      mysql.servers.beginUpdate(
        rg,
        name,
        { tags, backup: { backupRetentionDays: spec.backupRetentionDays } },
        o,
      ),
    );
    const after = await waitSucceeded(
      `MySQL flexible server ${name} to be ready`,
      () => this.getServer(rg, name, ctx),
      ctx,
      60 * MINUTE,
      (s) => s.state,
    );
    return this.state(after);
  }

  async delete(state: DatastoreState, ctx: ResourceContext): Promise<void> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const mysql = await this.clients.mysql();
    const server = await this.getServer(rg, name, ctx);
    if (server) {
      assertOwned(server.tags, ctx, `MySQL flexible server ${server.id}`);
      if (server.tags?.[PROTECTION_TAG] === "true")
        throw new DeletionProtectedError(
          `MySQL flexible server ${name} has deletion protection on: set datastore.deletionProtection to false and run up first`,
        );
      await azureCall(`MySQL Servers_Delete (${name})`, ctx, (o) => mysql.servers.beginDelete(rg, name, o));
      await waitGone(
        `MySQL flexible server ${name} to be deleted`,
        () => this.getServer(rg, name, ctx),
        ctx,
        60 * MINUTE,
      );
    }
    await this.deletePrivateZone(rg, name, ctx);
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<DatastoreState[]> {
    const rg = resourceGroupOf(this.options, ctx.cluster);
    const mysql = await this.clients.mysql();
    const all = await orMissing(
      azureCall(`MySQL Servers_ListByResourceGroup (${rg})`, ctx, () =>
        collect(mysql.servers.listByResourceGroup(rg)),
      ),
    );
    return (all ?? []).filter((s) => hasTags(s.tags, tags)).map((s) => this.state(s));
  }

  private getServer(rg: string, name: string, ctx: ResourceContext): Promise<Server | undefined> {
    return this.clients
      .mysql()
      .then((m) =>
        orMissing(azureCall(`MySQL Servers_Get (${name})`, ctx, (o) => m.servers.get(rg, name, o))),
      );
  }

  /** The server's private DNS zone, linked to the VNet so the nodes resolve the server's name. */
  private async privateZone(
    rg: string,
    server: string,
    vnetId: string,
    ctx: ResourceContext,
  ): Promise<string> {
    const dns = await this.clients.privateDns();
    const zone = privateZoneOf(server);
    await azureCall(`PrivateDns PrivateZones_CreateOrUpdate (${zone})`, ctx, (o) =>
      dns.privateZones.createOrUpdate(rg, zone, { location: "global", tags: { ...ctx.tags } }, o).submitted(),
    );
    const z = await waitSucceeded(
      `private DNS zone ${zone}`,
      () =>
        orMissing(
          azureCall(`PrivateDns PrivateZones_Get (${zone})`, ctx, (o) => dns.privateZones.get(rg, zone, o)),
        ),
      ctx,
      10 * MINUTE,
    );
    const link = `${server}-vnet`;
    await azureCall(`PrivateDns VirtualNetworkLinks_CreateOrUpdate (${link})`, ctx, (o) =>
      dns.virtualNetworkLinks
        .createOrUpdate(
          rg,
          zone,
          link,
          {
            location: "global",
            tags: { ...ctx.tags },
            virtualNetwork: { id: vnetId },
            registrationEnabled: false,
          },
          o,
        )
        .submitted(),
    );
    await waitSucceeded(
      `private DNS link ${link}`,
      () =>
        orMissing(
          azureCall(`PrivateDns VirtualNetworkLinks_Get (${link})`, ctx, (o) =>
            dns.virtualNetworkLinks.get(rg, zone, link, o),
          ),
        ),
      ctx,
      10 * MINUTE,
    );
    return z.id ?? "";
  }

  private async deletePrivateZone(rg: string, server: string, ctx: ResourceContext): Promise<void> {
    const dns = await this.clients.privateDns();
    const zone = privateZoneOf(server);
    const link = `${server}-vnet`;
    const found = await orMissing(
      azureCall(`PrivateDns PrivateZones_Get (${zone})`, ctx, (o) => dns.privateZones.get(rg, zone, o)),
    );
    if (!found) return;
    assertOwned(found.tags, ctx, `private DNS zone ${found.id}`);
    const getLink = () =>
      orMissing(
        azureCall(`PrivateDns VirtualNetworkLinks_Get (${link})`, ctx, (o) =>
          dns.virtualNetworkLinks.get(rg, zone, link, o),
        ),
      );
    if (await getLink()) {
      await azureCall(`PrivateDns VirtualNetworkLinks_Delete (${link})`, ctx, (o) =>
        dns.virtualNetworkLinks.delete(rg, zone, link, o).submitted(),
      );
      await waitGone(`private DNS link ${link} to be deleted`, getLink, ctx, 10 * MINUTE);
    }
    await azureCall(`PrivateDns PrivateZones_Delete (${zone})`, ctx, (o) =>
      dns.privateZones.delete(rg, zone, o).submitted(),
    );
    await waitGone(
      `private DNS zone ${zone} to be deleted`,
      () =>
        orMissing(
          azureCall(`PrivateDns PrivateZones_Get (${zone})`, ctx, (o) => dns.privateZones.get(rg, zone, o)),
        ),
      ctx,
      10 * MINUTE,
    );
  }

  /** `require_secure_transport` ON (the default, set again in case someone turned it off). */
  private async requireTls(rg: string, name: string, ctx: ResourceContext): Promise<void> {
    const mysql = await this.clients.mysql();
    const current = await azureCall(`MySQL Configurations_Get (${name}/require_secure_transport)`, ctx, (o) =>
      mysql.configurations.get(rg, name, "require_secure_transport", o),
    );
    if (current.value === "ON") return;
    await azureOperation(`MySQL Configurations_Update (${name}/require_secure_transport)`, ctx, (o) =>
      mysql.configurations.beginUpdate(
        rg,
        name,
        "require_secure_transport",
        { value: "ON", source: "user-override" },
        o,
      ),
    );
  }

  private state(s: Server): DatastoreState {
    return {
      id: s.id ?? "",
      name: s.name ?? "",
      host: s.fullyQualifiedDomainName ?? "",
      port: 3306,
      engineVersion: s.version ?? "",
      status: (s.state ?? "unknown").toLowerCase(),
      deletionProtection: s.tags?.[PROTECTION_TAG] === "true",
      // The server requires TLS; its certificate chains to DigiCert Global Root G2 (datastoreCaUrl).
      tls: { required: true },
    };
  }
}
