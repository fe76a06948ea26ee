/**
 * Microsoft.DBforMySQL flexible servers with their databases and server parameters (swagger:
 * mysql-flexible/2021-05-01/mysql.json, the api-version @azure/arm-mysql-flexible 3.1 sends). Private access
 * only: a subnet delegated to the service and a private DNS zone ending in `mysql.database.azure.com`.
 * https://learn.microsoft.com/en-us/azure/mysql/flexible-server/concepts-networking-vnet
 */
import { armErrors } from "../arm.js";
import { type Body, location, num, obj, oneOf, str, tags } from "../check.js";
import type { Kind, KindCtx, Res } from "../model.js";
import { SUBNET } from "./network.js";

export const SERVER = "Microsoft.DBforMySQL/flexibleServers";
const DATABASE = `${SERVER}/databases`;
const CONFIGURATION = `${SERVER}/configurations`;
const PRIVATE_ZONE = "Microsoft.Network/privateDnsZones";

/** Admin logins the service refuses (https://learn.microsoft.com/en-us/azure/mysql/flexible-server/quickstart-create-server-portal). */
const RESERVED_LOGINS = new Set([
  "azure_superuser",
  "admin",
  "administrator",
  "root",
  "guest",
  "sa",
  "public",
]);

/** Passwords: 8-128 characters from three of upper case, lower case, digits and other characters. */
const passwordProblem = (p: string): string | undefined => {
  if (p.length < 8 || p.length > 128) return "must be 8 to 128 characters long";
  const classes = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  return classes < 3
    ? "must contain characters from three of: upper case, lower case, digits, non-alphanumeric"
    : undefined;
};

/** Server names are global DNS labels: 3-63 lowercase letters, digits and hyphens, no hyphen at either end. */
const serverName = (name: string): string | undefined =>
  /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name)
    ? undefined
    : "use 3 to 63 lowercase letters, digits and hyphens, not beginning or ending with a hyphen";

// Parameters a new server starts with: TLS is required by default, TLS 1.2.
// https://learn.microsoft.com/en-us/azure/mysql/flexible-server/how-to-connect-tls-ssl
const DEFAULT_PARAMETERS: Readonly<Record<string, { value: string; allowed: string }>> = {
  require_secure_transport: { value: "ON", allowed: "ON,OFF" },
  tls_version: { value: "TLSv1.2", allowed: "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3" },
};

const server = (ctx: KindCtx, id: string): Res | undefined => ctx.get(id.split("/").slice(0, -2).join("/"));

export const flexibleServers: Kind = {
  type: SERVER,
  apiVersions: ["2021-05-01", "2022-01-01", "2023-06-30", "2023-12-30"],
  createMs: 300_000,
  deleteMs: 60_000,
  putStyle: "accepted",
  deleteStyle: "accepted",
  noProvisioningState: true,
  nameRule: serverName,
  put(body, ctx, existing) {
    const name = ctx.path.names.at(-1)!;
    // Names are global: the DNS name <name>.mysql.database.azure.com is one per name.
    const taken = ctx
      .list(SERVER)
      .find((s) => s.name === name && s.id.toLowerCase() !== ctx.path.id.toLowerCase());
    if (taken) throw armErrors.conflict("ServerNameAlreadyExists", `Specified server name is already used.`);
    const sku = {
      name: str(body, "sku.name"),
      tier: oneOf(body, "sku.tier", ["Burstable", "GeneralPurpose", "MemoryOptimized"], true)!,
    };
    const p = obj(body, "properties");
    const login = existing ? String(existing.properties.administratorLogin) : str(p, "administratorLogin");
    if (RESERVED_LOGINS.has(login.toLowerCase()) || login.length > 32 || /^(pg_|\d)/.test(login))
      throw armErrors.invalid(
        `The administrator login '${login}' is not allowed.`,
        "administratorLogin",
        "InvalidAdministratorLogin",
      );
    const password =
      str(p, "administratorLoginPassword", !!existing as true) ?? (existing?.hidden?.password as string);
    const why = passwordProblem(password);
    if (why)
      throw armErrors.invalid(`The password ${why}.`, "administratorLoginPassword", "PasswordNotComplex");
    const version = oneOf(p, "version", ["5.7", "8.0.21"]) ?? "5.7";
    if (existing && existing.properties.version !== version)
      throw armErrors.invalid(
        "Changing the version of a server is a major version upgrade, not an update.",
        "version",
        "PropertyChangeNotAllowed",
      );
    const ha = oneOf(p, "highAvailability.mode", ["Disabled", "ZoneRedundant", "SameZone"]) ?? "Disabled";
    if (ha !== "Disabled" && sku.tier === "Burstable")
      throw armErrors.invalid(
        "High availability is not supported for the Burstable tier.",
        "highAvailability",
        "HANotSupportedForBurstable",
      );
    const zone = str(p, "availabilityZone", true);
    const standby = str(p, "highAvailability.standbyAvailabilityZone", true);
    if (ha === "ZoneRedundant" && standby !== undefined && standby === zone)
      throw armErrors.invalid(
        "The standby zone of zone-redundant HA must differ from the primary's.",
        "standbyAvailabilityZone",
        "InvalidStandbyAvailabilityZone",
      );
    const size = num(p, "storage.storageSizeGB", true) ?? 32;
    if (size < 20 || size > 16_384)
      throw armErrors.invalid(
        "Storage size must be between 20 and 16384 GB.",
        "storageSizeGB",
        "InvalidStorageSize",
      );
    const retention = num(p, "backup.backupRetentionDays", true) ?? 7;
    if (retention < 1 || retention > 35)
      throw armErrors.invalid(
        "Backup retention must be between 1 and 35 days.",
        "backupRetentionDays",
        "InvalidBackupRetentionDays",
      );
    const network = obj(p, "network");
    const subnetId = str(network, "delegatedSubnetResourceId", true);
    const zoneId = str(network, "privateDnsZoneResourceId", true);
    if (existing) {
      const before = obj(existing.properties, "network");
      if ((before.delegatedSubnetResourceId ?? undefined) !== subnetId && subnetId !== undefined)
        throw armErrors.invalid(
          "The network of a server cannot change after it is created.",
          "network",
          "PropertyChangeNotAllowed",
        );
    } else if (subnetId !== undefined) {
      const subnet = ctx.get(subnetId);
      if (!subnet || subnet.type !== SUBNET)
        throw armErrors.invalid(
          `Subnet ${subnetId} was not found.`,
          "delegatedSubnetResourceId",
          "InvalidResourceReference",
        );
      const delegated = ((subnet.properties.delegations as Body[] | undefined) ?? []).some(
        (d) => (d.properties as Body | undefined)?.serviceName === SERVER,
      );
      if (!delegated)
        throw armErrors.invalid(
          `Subnet ${subnet.name} must be delegated to ${SERVER}.`,
          "delegatedSubnetResourceId",
          "SubnetNotDelegated",
        );
      const dns = zoneId ? ctx.get(zoneId) : undefined;
      if (!dns || dns.type !== PRIVATE_ZONE || !dns.name.endsWith(".mysql.database.azure.com"))
        throw armErrors.invalid(
          "A VNet-integrated server needs a private DNS zone whose name ends with mysql.database.azure.com.",
          "privateDnsZoneResourceId",
          "InvalidPrivateDnsZone",
        );
    }
    if (!existing)
      for (const [n, v] of Object.entries(DEFAULT_PARAMETERS)) {
        const id = `${ctx.path.id}/configurations/${n}`;
        ctx.state.resources[id.toLowerCase()] = {
          id,
          type: CONFIGURATION,
          name: n,
          resourceGroup: ctx.path.resourceGroup,
          properties: {
            value: v.value,
            defaultValue: v.value,
            allowedValues: v.allowed,
            source: "system-default",
            dataType: "Enumeration",
          },
          createdAt: ctx.now,
          readyAt: ctx.now,
          etag: ctx.rng.uuid(),
        };
      }
    return {
      location: location(body),
      tags: tags(body),
      sku,
      properties: {
        administratorLogin: login,
        version,
        availabilityZone: zone ?? "1",
        storage: {
          storageSizeGB: size,
          iops: 360,
          autoGrow: oneOf(p, "storage.autoGrow", ["Enabled", "Disabled"]) ?? "Disabled",
          storageSku: "Premium_LRS",
        },
        backup: {
          backupRetentionDays: retention,
          geoRedundantBackup: oneOf(p, "backup.geoRedundantBackup", ["Enabled", "Disabled"]) ?? "Disabled",
        },
        highAvailability: {
          mode: ha,
          ...(ha === "Disabled" ? {} : { standbyAvailabilityZone: standby ?? "2" }),
        },
        network: {
          publicNetworkAccess: subnetId ? "Disabled" : "Enabled",
          ...(subnetId ? { delegatedSubnetResourceId: subnetId } : {}),
          ...(zoneId ? { privateDnsZoneResourceId: zoneId } : {}),
        },
        fullyQualifiedDomainName: `${name}.mysql.database.azure.com`,
      },
      // The password is never returned; the backing MariaDB (if any) gets it.
      hidden: { password, connectPort: existing?.hidden?.connectPort },
    };
  },
  view: (r, ctx) => ({
    state: ctx.now >= r.readyAt ? "Ready" : r.hidden?.updated ? "Updating" : "Starting",
    highAvailability: {
      ...obj(r.properties, "highAvailability"),
      state:
        obj(r.properties, "highAvailability").mode === "Disabled"
          ? "NotEnabled"
          : ctx.now >= r.readyAt
            ? "Healthy"
            : "CreatingStandby",
    },
  }),
};

export const databases: Kind = {
  type: DATABASE,
  createMs: 10_000,
  deleteMs: 10_000,
  putStyle: "accepted",
  deleteStyle: "accepted",
  nameRule: (n) =>
    /^[A-Za-z0-9_-]{1,63}$/.test(n) ? undefined : "use 1 to 63 letters, digits, hyphens and underscores",
  put(body, ctx) {
    const s = server(ctx, ctx.path.id);
    if (s && ctx.now < s.readyAt)
      throw armErrors.conflict(
        "ServerIsBusy",
        "The server is busy with another operation. Please try again later.",
      );
    return {
      properties: {
        charset: str(body, "properties.charset", true) ?? "utf8",
        collation: str(body, "properties.collation", true) ?? "utf8_general_ci",
      },
    };
  },
};

export const configurations: Kind = {
  type: CONFIGURATION,
  createMs: 5_000,
  deleteMs: 0,
  putStyle: "location",
  deleteStyle: "sync",
  put(body, ctx, existing) {
    if (!existing)
      throw armErrors.resourceNotFound(CONFIGURATION, ctx.path.names.join("/"), ctx.path.resourceGroup ?? "");
    const value = str(body, "properties.value");
    const allowed = String(existing.properties.allowedValues).split(",");
    if (!allowed.includes(value))
      throw armErrors.invalid(
        `The value '${value}' for configuration '${existing.name}' is not valid; allowed: ${allowed.join(", ")}.`,
        "value",
        "InvalidConfigurationValue",
      );
    return {
      properties: {
        ...existing.properties,
        value,
        source: oneOf(body, "properties.source", ["system-default", "user-override"]) ?? "user-override",
      },
    };
  },
};
